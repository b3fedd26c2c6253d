//! The `audit_trail` table, in PostgreSQL or SQLite.

use async_trait::async_trait;
use conserje_projections::audit::{AuditFilter, AuditRow, AuditRows};
use conserje_projections::ProjectionError;
use sqlx::FromRow;

use crate::{on_pool, Database};

#[derive(Clone, Debug)]
pub struct SqlAuditRows {
    db: Database,
}

impl SqlAuditRows {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

fn storage(err: sqlx::Error) -> ProjectionError {
    ProjectionError::Storage(err.to_string())
}

#[derive(Debug, FromRow)]
struct Columns {
    position: i64,
    tenant_id: String,
    link: i64,
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    actor: String,
    channel: String,
    correlation_id: Option<String>,
    source_ip: Option<String>,
    recorded_at: chrono::DateTime<chrono::Utc>,
    prev_hash: String,
    hash: String,
}

impl From<Columns> for AuditRow {
    fn from(c: Columns) -> Self {
        Self {
            position: c.position,
            tenant_id: c.tenant_id,
            link: c.link,
            aggregate_type: c.aggregate_type,
            aggregate_id: c.aggregate_id,
            sequence: c.sequence,
            event_type: c.event_type,
            actor: c.actor,
            channel: c.channel,
            correlation_id: c.correlation_id,
            source_ip: c.source_ip,
            recorded_at: c.recorded_at,
            prev_hash: c.prev_hash,
            hash: c.hash,
        }
    }
}

const SELECT: &str = "SELECT position, tenant_id, link, aggregate_type, aggregate_id, sequence, \
     event_type, actor, channel, correlation_id, source_ip, recorded_at, prev_hash, hash \
     FROM audit_trail";

/// One bound value of a filtered query.
enum Bound {
    Text(String),
    Time(chrono::DateTime<chrono::Utc>),
    Int(i64),
}

#[async_trait]
impl AuditRows for SqlAuditRows {
    async fn head(&self, tenant: &str) -> Result<Option<(i64, String)>, ProjectionError> {
        let sql =
            "SELECT link, hash FROM audit_trail WHERE tenant_id = $1 ORDER BY link DESC LIMIT 1";
        on_pool!(&self.db, pool => {
            sqlx::query_as::<_, (i64, String)>(sql).bind(tenant).fetch_optional(pool).await
        })
        .map_err(storage)
    }

    async fn get(&self, position: i64) -> Result<Option<AuditRow>, ProjectionError> {
        let sql = format!("{SELECT} WHERE position = $1");
        let found: Option<Columns> = on_pool!(&self.db, pool => {
            sqlx::query_as(&sql).bind(position).fetch_optional(pool).await
        })
        .map_err(storage)?;
        Ok(found.map(AuditRow::from))
    }

    async fn insert(&self, row: &AuditRow) -> Result<(), ProjectionError> {
        let sql = "INSERT INTO audit_trail (position, tenant_id, link, aggregate_type, \
             aggregate_id, sequence, event_type, actor, channel, correlation_id, source_ip, \
             recorded_at, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
        on_pool!(&self.db, pool => {
            sqlx::query(sql)
                .bind(row.position)
                .bind(&row.tenant_id)
                .bind(row.link)
                .bind(&row.aggregate_type)
                .bind(&row.aggregate_id)
                .bind(row.sequence)
                .bind(&row.event_type)
                .bind(&row.actor)
                .bind(&row.channel)
                .bind(row.correlation_id.as_deref())
                .bind(row.source_ip.as_deref())
                .bind(row.recorded_at)
                .bind(&row.prev_hash)
                .bind(&row.hash)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(storage)
    }

    async fn query(&self, filter: &AuditFilter) -> Result<Vec<AuditRow>, ProjectionError> {
        let mut conditions = Vec::new();
        let mut values = Vec::new();
        let mut add = |condition: &str, value: Bound| {
            values.push(value);
            conditions.push(condition.replace('?', &format!("${}", values.len())));
        };
        if let Some(tenant) = &filter.tenant {
            add("tenant_id = ?", Bound::Text(tenant.to_string()));
        }
        if let Some(aggregate) = &filter.aggregate_id {
            add("aggregate_id = ?", Bound::Text(aggregate.clone()));
        }
        if let Some(actor) = &filter.actor {
            add("actor = ?", Bound::Text(actor.clone()));
        }
        if let Some(from) = filter.from {
            add("recorded_at >= ?", Bound::Time(from));
        }
        if let Some(to) = filter.to {
            add("recorded_at < ?", Bound::Time(to));
        }
        let mut sql = SELECT.to_owned();
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        values.push(Bound::Int(filter.limit as i64));
        sql.push_str(&format!(" ORDER BY position LIMIT ${}", values.len()));
        let rows: Vec<Columns> = on_pool!(&self.db, pool => {
            let mut query = sqlx::query_as(&sql);
            for value in &values {
                query = match value {
                    Bound::Text(v) => query.bind(v.clone()),
                    Bound::Time(v) => query.bind(*v),
                    Bound::Int(v) => query.bind(*v),
                };
            }
            query.fetch_all(pool).await
        })
        .map_err(storage)?;
        Ok(rows.into_iter().map(AuditRow::from).collect())
    }

    async fn chain(&self, tenant: Option<&str>) -> Result<Vec<AuditRow>, ProjectionError> {
        let rows: Vec<Columns> = match tenant {
            Some(tenant) => {
                let sql = format!("{SELECT} WHERE tenant_id = $1 ORDER BY link");
                on_pool!(&self.db, pool => sqlx::query_as(&sql).bind(tenant).fetch_all(pool).await)
            }
            None => {
                let sql = format!("{SELECT} ORDER BY tenant_id, link");
                on_pool!(&self.db, pool => sqlx::query_as(&sql).fetch_all(pool).await)
            }
        }
        .map_err(storage)?;
        Ok(rows.into_iter().map(AuditRow::from).collect())
    }
}
