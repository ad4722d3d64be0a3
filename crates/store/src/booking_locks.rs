//! SQLite's send hold: one lock per booking, in this process.
//!
//! A dispatcher holds the bookings of the batch it sends (shared), a booking change holds the
//! booking it changes (exclusive), so a change waits only for sends of its own booking's
//! messages. Locks are always taken in id order, so two holders of several bookings never
//! wait for each other in a circle. PostgreSQL needs none of this: row locks do the same
//! across nodes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};
use uuid::Uuid;

/// The locks of one database file, shared by every store this process opens on it.
#[derive(Debug, Default)]
pub(crate) struct BookingLocks {
    held: Mutex<HashMap<Uuid, Arc<RwLock<()>>>>,
}

enum Guard {
    Shared(#[allow(dead_code)] OwnedRwLockReadGuard<()>),
    Exclusive(#[allow(dead_code)] OwnedRwLockWriteGuard<()>),
}

/// Bookings held until this is dropped.
pub(crate) struct Held {
    locks: Arc<BookingLocks>,
    guards: Vec<(Uuid, Guard)>,
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.guards.iter().map(|(id, _)| id))
            .finish()
    }
}

impl BookingLocks {
    fn map(&self) -> MutexGuard<'_, HashMap<Uuid, Arc<RwLock<()>>>> {
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_of(&self, id: Uuid) -> Arc<RwLock<()>> {
        self.map().entry(id).or_default().clone()
    }

    /// Holds `ids` for sending: changes of these bookings wait, other sends do not.
    pub(crate) async fn share(self: &Arc<Self>, ids: &[Uuid]) -> Held {
        let mut held = Held::new(self);
        for id in in_order(ids) {
            let guard = self.lock_of(id).read_owned().await;
            held.guards.push((id, Guard::Shared(guard)));
        }
        held
    }

    /// Holds nothing yet.
    pub(crate) fn none(self: &Arc<Self>) -> Held {
        Held::new(self)
    }

    /// Holds `ids` for changing: waits until no message of theirs is being sent.
    pub(crate) async fn exclusive(self: &Arc<Self>, ids: &[Uuid]) -> Held {
        let mut held = Held::new(self);
        for id in in_order(ids) {
            let guard = self.lock_of(id).write_owned().await;
            held.guards.push((id, Guard::Exclusive(guard)));
        }
        held
    }

    /// How many bookings have a lock right now (held, or waited for).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.map().len()
    }
}

fn in_order(ids: &[Uuid]) -> Vec<Uuid> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}

impl Held {
    fn new(locks: &Arc<BookingLocks>) -> Held {
        Held {
            locks: locks.clone(),
            guards: Vec::new(),
        }
    }

    /// Whether `id` is held exclusively here.
    pub(crate) fn holds(&self, id: Uuid) -> bool {
        self.guards
            .iter()
            .any(|(held, guard)| *held == id && matches!(guard, Guard::Exclusive(_)))
    }

    /// Adds a booking found inside a transaction, without waiting: whoever holds it may be
    /// waiting for the database's write lock, which that transaction has (on SQLite one
    /// transaction writes at a time). `false` if it is being sent or changed right now.
    pub(crate) fn try_add_exclusive(&mut self, id: Uuid) -> bool {
        if self.holds(id) {
            return true;
        }
        match self.locks.lock_of(id).try_write_owned() {
            Ok(guard) => {
                self.guards.push((id, Guard::Exclusive(guard)));
                true
            }
            Err(_) => false,
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let ids: Vec<Uuid> = self.guards.iter().map(|(id, _)| *id).collect();
        self.guards.clear();
        // A lock nobody holds or waits for any more leaves the map (only the map's own
        // reference is left), so the map stays as small as the work in flight.
        let mut map = self.locks.map();
        for id in ids {
            if map
                .get(&id)
                .is_some_and(|lock| Arc::strong_count(lock) == 1)
            {
                map.remove(&id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ids(n: u128) -> Vec<Uuid> {
        (1..=n).map(Uuid::from_u128).collect()
    }

    #[tokio::test]
    async fn a_change_waits_only_for_sends_of_its_own_booking() {
        let locks = Arc::new(BookingLocks::default());
        let sending = locks.share(&ids(3)).await;
        let other = tokio::time::timeout(
            Duration::from_millis(100),
            locks.exclusive(&[Uuid::from_u128(4)]),
        )
        .await;
        assert!(other.is_ok(), "a change of another booking must not wait");
        drop(other);
        let same = tokio::time::timeout(
            Duration::from_millis(100),
            locks.exclusive(&[Uuid::from_u128(2)]),
        )
        .await;
        assert!(same.is_err(), "a change of a booking in flight must wait");
        drop(sending);
        let after = tokio::time::timeout(
            Duration::from_millis(100),
            locks.exclusive(&[Uuid::from_u128(2)]),
        )
        .await;
        assert!(after.is_ok(), "the change goes ahead once the send is done");
    }

    #[tokio::test]
    async fn a_booking_found_inside_a_transaction_is_never_waited_for() {
        let locks = Arc::new(BookingLocks::default());
        let sending = locks.share(&ids(1)).await;
        let mut change = locks.exclusive(&[]).await;
        assert!(!change.try_add_exclusive(Uuid::from_u128(1)));
        assert!(change.try_add_exclusive(Uuid::from_u128(2)));
        assert!(change.holds(Uuid::from_u128(2)));
        drop(sending);
        assert!(change.try_add_exclusive(Uuid::from_u128(1)));
    }

    #[tokio::test]
    async fn two_sends_share_a_booking() {
        let locks = Arc::new(BookingLocks::default());
        let first = locks.share(&ids(2)).await;
        let second = tokio::time::timeout(Duration::from_millis(100), locks.share(&ids(3))).await;
        assert!(second.is_ok());
        drop((first, second));
    }

    #[tokio::test]
    async fn released_locks_leave_the_map() {
        let locks = Arc::new(BookingLocks::default());
        let held = locks.share(&ids(50)).await;
        let change = locks.exclusive(&[Uuid::from_u128(99)]).await;
        assert_eq!(locks.len(), 51);
        drop(held);
        drop(change);
        assert_eq!(locks.len(), 0);
    }
}
