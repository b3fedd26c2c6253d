//! The `api_keys` read-model table, in PostgreSQL or SQLite.

use async_trait::async_trait;
use conserje_projections::api_keys::{ApiKeyRow, ApiKeyRows};
use conserje_projections::ProjectionError;
use sqlx::FromRow;

use crate::{on_pool, Database};

#[derive(Clone, Debug)]
pub struct SqlApiKeyRows {
    db: Database,
}

impl SqlApiKeyRows {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

fn storage(err: sqlx::Error) -> ProjectionError {
    ProjectionError::Storage(err.to_string())
}

#[derive(Debug, FromRow)]
struct Columns {
    key_id: String,
    name: String,
    role: String,
    scope: String,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    issued_at: chrono::DateTime<chrono::Utc>,
    issued_by: String,
    revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    revoked_by: Option<String>,
    last_sequence: i64,
}

impl From<Columns> for ApiKeyRow {
    fn from(c: Columns) -> Self {
        Self {
            key_id: c.key_id,
            name: c.name,
            role: c.role,
            scope: c.scope,
            expires_at: c.expires_at,
            issued_at: c.issued_at,
            issued_by: c.issued_by,
            revoked_at: c.revoked_at,
            revoked_by: c.revoked_by,
            last_sequence: c.last_sequence,
        }
    }
}

const SELECT: &str = "SELECT key_id, name, role, scope, expires_at, issued_at, issued_by, \
     revoked_at, revoked_by, last_sequence FROM api_keys";

const UPSERT: &str = "INSERT INTO api_keys (key_id, name, role, scope, expires_at, issued_at, \
     issued_by, revoked_at, revoked_by, last_sequence) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT (key_id) DO UPDATE SET name = excluded.name, role = excluded.role, \
     scope = excluded.scope, expires_at = excluded.expires_at, revoked_at = excluded.revoked_at, \
     revoked_by = excluded.revoked_by, last_sequence = excluded.last_sequence \
     WHERE api_keys.last_sequence < excluded.last_sequence";

#[async_trait]
impl ApiKeyRows for SqlApiKeyRows {
    async fn get(&self, key_id: &str) -> Result<Option<ApiKeyRow>, ProjectionError> {
        let sql = format!("{SELECT} WHERE key_id = $1");
        let found: Option<Columns> = on_pool!(&self.db, pool => {
            sqlx::query_as(&sql).bind(key_id).fetch_optional(pool).await
        })
        .map_err(storage)?;
        Ok(found.map(ApiKeyRow::from))
    }

    async fn upsert(&self, row: &ApiKeyRow) -> Result<(), ProjectionError> {
        on_pool!(&self.db, pool => {
            sqlx::query(UPSERT)
                .bind(&row.key_id)
                .bind(&row.name)
                .bind(&row.role)
                .bind(&row.scope)
                .bind(row.expires_at)
                .bind(row.issued_at)
                .bind(&row.issued_by)
                .bind(row.revoked_at)
                .bind(row.revoked_by.as_deref())
                .bind(row.last_sequence)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(storage)
    }

    async fn list(&self) -> Result<Vec<ApiKeyRow>, ProjectionError> {
        let sql = format!("{SELECT} ORDER BY issued_at, key_id");
        let rows: Vec<Columns> = on_pool!(&self.db, pool => {
            sqlx::query_as(&sql).fetch_all(pool).await
        })
        .map_err(storage)?;
        Ok(rows.into_iter().map(ApiKeyRow::from).collect())
    }
}
