//! The change feed of a Redis store: a stream (issue 15).

use std::time::{Duration, Instant};

use deadpool_redis::redis::{self, Value};
use tessera_domain::error::StoreError;
use tessera_domain::model::{Change, RevocationKey, SessionId};
use tessera_domain::ports::ChangeFeed;
use uuid::Uuid;

use crate::Redis;

/// How many entries the stream keeps (approximately): readers are expected
/// within milliseconds, and one that lost its connection empties its caches.
pub(crate) const STREAM_MAX_LEN: u64 = 10_000;

/// The client name of a feed's connection (`CLIENT LIST` shows it).
pub const CLIENT_NAME: &str = "tessera-changes";

/// The stream field of a denial, and its value's form (`t:<jti>`, `s:<sid>`).
pub(crate) const DENIED_FIELD: &str = "d";

pub(crate) fn encode_key(key: RevocationKey) -> String {
    match key {
        RevocationKey::Token(t) => format!("t:{t}"),
        RevocationKey::Session(s) => format!("s:{}", s.0),
    }
}

fn decode(field: &[u8], value: &[u8]) -> Change {
    let parsed = (field == DENIED_FIELD.as_bytes())
        .then(|| std::str::from_utf8(value).ok())
        .flatten()
        .and_then(|v| v.split_once(':'))
        .and_then(|(kind, id)| {
            let id = Uuid::parse_str(id).ok()?;
            match kind {
                "t" => Some(RevocationKey::Token(id)),
                "s" => Some(RevocationKey::Session(SessionId(id))),
                _ => None,
            }
        });
    // An entry this version cannot read: drop everything, to be safe.
    parsed.map_or(Change::Everything, Change::Denied)
}

/// A reader of the stream `<prefix>changes`, to which every denial of
/// [`crate::RedisDenylist`] adds an entry **in the same script** that writes
/// the denial (so no denial is stored without its entry). A call is one
/// `XREAD BLOCK` from the cursor on a connection of the feed's own: it
/// answers everything added before it was sent, so [`ChangeFeed`]'s promise
/// holds; a lost connection is an error, and the next call opens another.
///
/// A Redis Cluster has no stream (a denial's key and the stream's would be in
/// different slots): [`RedisChangeFeed::new`] answers `None` there, and the
/// denylist must then be read on every check.
#[derive(Debug)]
pub struct RedisChangeFeed {
    redis: Redis,
    stream: String,
    conn: Option<redis::aio::MultiplexedConnection>,
    cursor: Option<String>,
}

impl RedisChangeFeed {
    /// The feed of `redis`'s denials, positioned by its first call; `None`
    /// on a cluster.
    #[must_use]
    pub fn new(redis: Redis) -> Option<Self> {
        let stream = redis.change_stream()?;
        Some(Self {
            redis,
            stream,
            conn: None,
            cursor: None,
        })
    }

    async fn read(&mut self, wait: Duration, cmd: &redis::Cmd) -> Result<Value, StoreError> {
        let timeout = self.redis.timeout + wait;
        if self.conn.is_none() {
            let mut fresh = self.redis.dedicated(timeout).await?;
            // Named, so that operators (and the fault run) can find it.
            redis::cmd("CLIENT")
                .arg("SETNAME")
                .arg(CLIENT_NAME)
                .query_async::<()>(&mut fresh)
                .await
                .map_err(|e| StoreError::Unavailable(format!("redis change stream: {e}")))?;
            self.conn = Some(fresh);
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(StoreError::Unavailable(
                "redis change stream: no connection".into(),
            ));
        };
        match tokio::time::timeout(timeout, cmd.query_async::<Value>(conn)).await {
            Ok(Ok(v)) => Ok(v),
            failed => {
                // Whatever went wrong, the next call starts on a new connection.
                self.conn = None;
                Err(StoreError::Unavailable(match failed {
                    Ok(Err(e)) => format!("redis change stream: {e}"),
                    _ => "redis change stream: timed out".into(),
                }))
            }
        }
    }
}

type Entry = (String, Vec<(Vec<u8>, Vec<u8>)>);

fn bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::BulkString(b) => Some(b.clone()),
        Value::SimpleString(s) => Some(s.clone().into_bytes()),
        _ => None,
    }
}

/// A list of stream entries (an `XRANGE` answer): `[[id, [field, value, …]], …]`.
fn range_entries(list: &Value) -> Vec<Entry> {
    let Value::Array(list) = list else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|entry| {
            let Value::Array(parts) = entry else {
                return None;
            };
            let id = String::from_utf8(bytes(parts.first()?)?).ok()?;
            let fields = match parts.get(1)? {
                Value::Array(kv) => kv
                    .chunks(2)
                    .filter_map(|p| Some((bytes(p.first()?)?, bytes(p.get(1)?)?)))
                    .collect(),
                Value::Map(kv) => kv
                    .iter()
                    .filter_map(|(k, v)| Some((bytes(k)?, bytes(v)?)))
                    .collect(),
                _ => Vec::new(),
            };
            Some((id, fields))
        })
        .collect()
}

/// The entries of an `XREAD` answer: `[[stream, entries], …]` (RESP2),
/// `{stream: entries}` (RESP3), or nil when the block timed out.
fn read_entries(reply: &Value) -> Vec<Entry> {
    match reply {
        Value::Array(streams) => streams
            .iter()
            .flat_map(|s| match s {
                Value::Array(pair) => pair.get(1).map(range_entries).unwrap_or_default(),
                _ => Vec::new(),
            })
            .collect(),
        Value::Map(streams) => streams
            .iter()
            .flat_map(|(_, list)| range_entries(list))
            .collect(),
        _ => Vec::new(),
    }
}

impl ChangeFeed for RedisChangeFeed {
    async fn changes(&mut self, wait: Duration) -> Result<Vec<Change>, StoreError> {
        let Some(cursor) = self.cursor.clone() else {
            let mut last = redis::cmd("XREVRANGE");
            last.arg(&self.stream).arg("+").arg("-").arg("COUNT").arg(1);
            let reply = self.read(Duration::ZERO, &last).await?;
            self.cursor = Some(
                range_entries(&reply)
                    .into_iter()
                    .next()
                    .map_or_else(|| "0-0".to_owned(), |(id, _)| id),
            );
            return Ok(Vec::new());
        };
        let began = Instant::now();
        let mut read = redis::cmd("XREAD");
        read.arg("BLOCK")
            .arg(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1))
            .arg("STREAMS")
            .arg(&self.stream)
            .arg(&cursor);
        let reply = self.read(wait, &read).await?;
        let mut changes = Vec::new();
        for (id, fields) in read_entries(&reply) {
            for (field, value) in &fields {
                changes.push(decode(field, value));
            }
            self.cursor = Some(id);
        }
        // A BLOCK that Redis cut short with nothing to say: do not spin.
        if changes.is_empty() && began.elapsed() < wait / 2 {
            tokio::time::sleep(wait / 2).await;
        }
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use deadpool_redis::redis::Value;
    use tessera_domain::model::{Change, RevocationKey, SessionId};

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn reads_xread_and_xrange_answers() {
        let sid = uuid::Uuid::new_v4();
        let jti = uuid::Uuid::new_v4();
        let e1 = Value::Array(vec![
            bulk("1-0"),
            Value::Array(vec![bulk("d"), bulk(&format!("s:{sid}"))]),
        ]);
        let e2 = Value::Array(vec![
            bulk("2-0"),
            Value::Array(vec![bulk("d"), bulk(&format!("t:{jti}"))]),
        ]);
        let xread = Value::Array(vec![Value::Array(vec![
            bulk("tessera:changes"),
            Value::Array(vec![e1.clone(), e2.clone()]),
        ])]);
        let read = super::read_entries(&xread);
        assert_eq!(
            read.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
            ["1-0", "2-0"]
        );
        let changes: Vec<Change> = read
            .iter()
            .flat_map(|(_, f)| f.iter().map(|(k, v)| super::decode(k, v)))
            .collect();
        assert_eq!(
            changes,
            [
                Change::Denied(RevocationKey::Session(SessionId(sid))),
                Change::Denied(RevocationKey::Token(jti))
            ]
        );
        let xrange = Value::Array(vec![e2]);
        assert_eq!(super::range_entries(&xrange)[0].0, "2-0");
        assert!(super::read_entries(&Value::Nil).is_empty());
        assert_eq!(super::decode(b"x", b"s:1"), Change::Everything);
    }
}
