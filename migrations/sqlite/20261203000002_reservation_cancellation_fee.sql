-- What a cancellation cost under the hotel's policy (minor units of `currency`): 0 when it was
-- free, NULL while the reservation is not cancelled. Analysts sum it as cancellation revenue.
ALTER TABLE reservations ADD COLUMN cancellation_fee_minor bigint;
