//! A bounded queue of pending deliveries for one notification: pushing
//! never waits; when the queue is full the OLDEST pending item is dropped
//! (the newest news is worth more) and counted by the caller.
//!
//! Invariant: at most `capacity` items wait; no lock is held across an
//! await (the worker pops, then awaits the delivery without the lock).

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::Notify;

pub struct Queue<T> {
    items: Mutex<State<T>>,
    wake: Notify,
    capacity: usize,
}

struct State<T> {
    items: VecDeque<T>,
    closed: bool,
}

impl<T> Queue<T> {
    pub fn new(capacity: usize) -> Queue<T> {
        Queue { items: Mutex::new(State { items: VecDeque::new(), closed: false }), wake: Notify::new(), capacity }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `item`; returns the oldest item it pushed out, if the queue was full.
    pub fn push(&self, item: T) -> Option<T> {
        let dropped = {
            let mut st = self.lock();
            let dropped = if st.items.len() >= self.capacity { st.items.pop_front() } else { None };
            st.items.push_back(item);
            dropped
        };
        self.wake.notify_one();
        dropped
    }

    /// The next item; `None` once the queue is closed and empty.
    pub async fn pop(&self) -> Option<T> {
        loop {
            let notified = self.wake.notified();
            {
                let mut st = self.lock();
                if let Some(item) = st.items.pop_front() {
                    return Some(item);
                }
                if st.closed {
                    return None;
                }
            }
            notified.await;
        }
    }

    /// No more pushes are expected: the worker ends once it has drained the rest.
    pub fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_waiters();
        self.wake.notify_one();
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().items.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_drops_its_oldest_item() {
        let q = Queue::new(2);
        assert_eq!(q.push(1), None);
        assert_eq!(q.push(2), None);
        assert_eq!(q.push(3), Some(1));
        assert_eq!(q.len(), 2);
        q.close();
        assert_eq!((q.pop().await, q.pop().await, q.pop().await), (Some(2), Some(3), None));
    }
}
