//! `ResourceTable`: host objects a guest holds by rid.

use std::any::{Any, type_name};
use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio_util::sync::CancellationToken;

use crate::OpError;

/// A resource id as the guest sees it. Rids are handed out in increasing order and
/// never reused within one table, so a stale rid can never reach a newer resource.
pub type ResourceId = u32;

/// A host object that a guest holds by rid: an open file, a socket, a listener.
///
/// Resources are `Send + Sync` so that the blocking async entry of an op can lend one
/// to its body on a `spawn_blocking` thread.
pub trait Resource: Any + Send + Sync {
    /// The name `op_resources` reports, e.g. `"fsFile"`.
    fn name(&self) -> Cow<'_, str> {
        let full = type_name::<Self>();
        Cow::Borrowed(full.rsplit("::").next().unwrap_or(full))
    }

    /// Called once when the guest closes the rid. Ops still holding the resource keep it
    /// alive until they finish; this hook is where a resource shuts itself down early.
    fn close(self: Arc<Self>) {}
}

struct Entry {
    resource: Arc<dyn Resource>,
    /// Made when the first pending op asks for it: most resources never have one.
    cancel: OnceCell<CancellationToken>,
    /// The share of a [`ResourceBudget`] this entry holds, given back when it leaves
    /// the table however it leaves.
    _charge: Option<Charge>,
}

/// A cap on the resources open across many tables at once, e.g. every session of a
/// server: what keeps the guests together below the process's descriptor limit while
/// each table's own limit keeps one guest below its share.
///
/// ```
/// use std::sync::Arc;
/// use opkit::{Resource, ResourceBudget, ResourceTable};
///
/// struct File;
/// impl Resource for File {}
///
/// let budget = Arc::new(ResourceBudget::new(1));
/// let (mut a, mut b) = (ResourceTable::default(), ResourceTable::default());
/// a.set_budget(Some(budget.clone()));
/// b.set_budget(Some(budget.clone()));
/// let rid = a.add(File).unwrap();
/// assert!(b.add(File).is_err()); // ResourceExhausted: the budget is spent
/// a.close(rid).unwrap();
/// assert!(b.add(File).is_ok());
/// ```
#[derive(Debug)]
pub struct ResourceBudget {
    max: usize,
    open: AtomicUsize,
}

impl ResourceBudget {
    /// A budget of `max` resources, none of them open.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            open: AtomicUsize::new(0),
        }
    }

    /// How many resources the tables sharing this budget may hold together.
    pub fn max(&self) -> usize {
        self.max
    }

    /// How many they hold now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    fn charge(self: &Arc<Self>) -> Result<Charge, OpError> {
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < self.max).then_some(open + 1)
            })
            .map_err(|_| {
                OpError::new(
                    crate::ErrorClass::ResourceExhausted,
                    format!(
                        "{} resources are open across the host, as many as it allows; close some first",
                        self.max
                    ),
                )
            })?;
        Ok(Charge(self.clone()))
    }
}

/// One resource's share of a budget.
struct Charge(Arc<ResourceBudget>);

impl Drop for Charge {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Entry {
    /// Wakes the ops pending on the resource with `Interrupted`, then closes it.
    fn interrupt(self) {
        if let Some(cancel) = self.cancel.get() {
            cancel.cancel();
        }
        self.resource.close();
    }
}

/// The resources of one runtime.
///
/// ```
/// use std::sync::Arc;
/// use opkit::{Resource, ResourceTable};
///
/// struct Counter(u32);
/// impl Resource for Counter {}
///
/// let mut table = ResourceTable::default();
/// let rid = table.add(Counter(7)).unwrap();
/// assert_eq!(table.get::<Counter>(rid).unwrap().0, 7);
/// table.close(rid).unwrap();
/// assert!(table.get::<Counter>(rid).is_err());
/// ```
#[derive(Default)]
pub struct ResourceTable {
    entries: BTreeMap<ResourceId, Entry>,
    next_rid: ResourceId,
    /// How many resources may be open at once; `None`: no limit.
    limit: Option<usize>,
    /// A cap shared with other tables, if any.
    budget: Option<Arc<ResourceBudget>>,
}

impl ResourceTable {
    /// Adds a resource and returns its new rid.
    pub fn add<T: Resource>(&mut self, resource: T) -> Result<ResourceId, OpError> {
        self.add_arc(Arc::new(resource))
    }

    /// Caps how many resources may be open at once (`None`: no cap). A host gives a
    /// guest's runtime a cap so that it cannot hold every descriptor of the process.
    pub fn set_limit(&mut self, limit: Option<usize>) {
        self.limit = limit;
    }

    /// Shares a cap with other tables (`None`: none): an add past it answers
    /// `ResourceExhausted`. Resources already open are not charged.
    pub fn set_budget(&mut self, budget: Option<Arc<ResourceBudget>>) {
        self.budget = budget;
    }

    /// Adds a shared resource and returns its new rid; `ResourceExhausted` when the
    /// table holds as many as its limit.
    pub fn add_arc<T: Resource>(&mut self, resource: Arc<T>) -> Result<ResourceId, OpError> {
        if let Some(limit) = self.limit
            && self.entries.len() >= limit
        {
            return Err(OpError::new(
                crate::ErrorClass::ResourceExhausted,
                format!(
                    "{limit} resources are open, as many as this runtime may hold; close some first"
                ),
            ));
        }
        let rid = self.next_rid;
        let next = rid
            .checked_add(1)
            .ok_or_else(|| OpError::generic("resource ids of this runtime are exhausted"))?;
        let charge = self
            .budget
            .as_ref()
            .map(ResourceBudget::charge)
            .transpose()?;
        self.next_rid = next;
        let entry = Entry {
            resource,
            cancel: OnceCell::new(),
            _charge: charge,
        };
        self.entries.insert(rid, entry);
        Ok(rid)
    }

    /// Whether `rid` is open.
    pub fn has(&self, rid: ResourceId) -> bool {
        self.entries.contains_key(&rid)
    }

    /// How many resources are open.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no resource is open.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The resource behind `rid`, if it is a `T`.
    pub fn get<T: Resource>(&self, rid: ResourceId) -> Result<Arc<T>, OpError> {
        let entry = self.entry(rid)?;
        downcast(rid, entry.resource.clone())
    }

    /// The token that closing `rid` cancels: ops pending on the resource watch it.
    pub fn cancel_token(&self, rid: ResourceId) -> Option<CancellationToken> {
        let entry = self.entries.get(&rid)?;
        Some(entry.cancel.get_or_init(CancellationToken::new).clone())
    }

    /// The resource behind `rid`, whatever its type.
    pub fn get_any(&self, rid: ResourceId) -> Result<Arc<dyn Resource>, OpError> {
        Ok(self.entry(rid)?.resource.clone())
    }

    /// Removes the resource from the table without closing it: ownership moves to the
    /// caller. Pending ops on it keep running.
    pub fn take<T: Resource>(&mut self, rid: ResourceId) -> Result<Arc<T>, OpError> {
        let entry = self.entry(rid)?;
        let resource = downcast(rid, entry.resource.clone())?;
        self.entries.remove(&rid);
        Ok(resource)
    }

    /// Removes the resource, wakes every pending op on it with `Interrupted`, and calls
    /// its [`Resource::close`] hook.
    pub fn close(&mut self, rid: ResourceId) -> Result<(), OpError> {
        let entry = self.entries.remove(&rid).ok_or_else(|| not_open(rid))?;
        entry.interrupt();
        Ok(())
    }

    /// Closes every resource, in rid order.
    pub fn close_all(&mut self) {
        for (_, entry) in std::mem::take(&mut self.entries) {
            entry.interrupt();
        }
    }

    /// `(rid, name)` of every open resource, in rid order.
    pub fn names(&self) -> impl Iterator<Item = (ResourceId, Cow<'_, str>)> {
        self.entries
            .iter()
            .map(|(rid, entry)| (*rid, entry.resource.name()))
    }

    fn entry(&self, rid: ResourceId) -> Result<&Entry, OpError> {
        self.entries.get(&rid).ok_or_else(|| not_open(rid))
    }
}

impl Drop for ResourceTable {
    fn drop(&mut self) {
        self.close_all();
    }
}

fn not_open(rid: ResourceId) -> OpError {
    OpError::bad_resource(format!("rid {rid} is not open"))
}

fn downcast<T: Resource>(rid: ResourceId, resource: Arc<dyn Resource>) -> Result<Arc<T>, OpError> {
    let actual = resource.name().into_owned();
    let any: Arc<dyn Any + Send + Sync> = resource;
    any.downcast::<T>().map_err(|_| {
        let wanted = type_name::<T>();
        let wanted = wanted.rsplit("::").next().unwrap_or(wanted);
        OpError::bad_resource(format!("rid {rid} is a {actual}, not a {wanted}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorClass;
    use std::sync::atomic::{AtomicBool, Ordering};

    struct File(&'static str);
    impl Resource for File {}

    struct Socket(Arc<AtomicBool>);
    impl Resource for Socket {
        fn name(&self) -> Cow<'_, str> {
            "socket".into()
        }
        fn close(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn rids_are_monotonic_and_never_reused() {
        let mut table = ResourceTable::default();
        let a = table.add(File("a")).unwrap();
        table.close(a).unwrap();
        let b = table.add(File("b")).unwrap();
        assert!(b > a);
        assert_eq!(table.get::<File>(b).unwrap().0, "b");
        let err = table.get::<File>(a).err().unwrap();
        assert_eq!(err.class(), ErrorClass::BadResource);
        assert_eq!(err.message(), "rid 0 is not open");
    }

    #[test]
    fn wrong_type_is_bad_resource_naming_both_types() {
        let mut table = ResourceTable::default();
        let closed = Arc::new(AtomicBool::new(false));
        let rid = table.add(Socket(closed.clone())).unwrap();
        let err = table.get::<File>(rid).err().unwrap();
        assert_eq!(err.message(), "rid 0 is a socket, not a File");
        let cancel = table.cancel_token(rid).unwrap();
        table.close(rid).unwrap();
        assert!(closed.load(Ordering::SeqCst));
        assert!(cancel.is_cancelled());
        assert_eq!(
            table.close(rid).unwrap_err().class(),
            ErrorClass::BadResource
        );
    }

    #[test]
    fn a_limit_refuses_more_until_one_is_closed() {
        let mut table = ResourceTable::default();
        table.set_limit(Some(2));
        let a = table.add(File("a")).unwrap();
        table.add(File("b")).unwrap();
        let err = table.add(File("c")).unwrap_err();
        assert_eq!(err.class(), ErrorClass::ResourceExhausted);
        table.close(a).unwrap();
        table.add(File("c")).unwrap();
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn a_budget_is_shared_and_given_back_however_an_entry_leaves() {
        let budget = Arc::new(ResourceBudget::new(2));
        let mut a = ResourceTable::default();
        let mut b = ResourceTable::default();
        a.set_budget(Some(budget.clone()));
        b.set_budget(Some(budget.clone()));
        let first = a.add(File("a")).unwrap();
        b.add(Socket(Arc::new(AtomicBool::new(false)))).unwrap();
        let err = a.add(File("c")).unwrap_err();
        assert_eq!(err.class(), ErrorClass::ResourceExhausted);
        assert!(
            err.message()
                .contains("2 resources are open across the host")
        );
        // A refused add hands out no rid.
        assert!(!a.has(first + 1));
        a.close(first).unwrap();
        assert_eq!(budget.open(), 1);
        let second = a.add(File("d")).unwrap();
        assert_eq!(second, first + 1);
        let _taken = a.take::<File>(second).unwrap();
        assert_eq!(budget.open(), 1);
        drop(b);
        assert_eq!(budget.open(), 0);
    }

    #[test]
    fn take_removes_without_closing() {
        let mut table = ResourceTable::default();
        let closed = Arc::new(AtomicBool::new(false));
        let rid = table.add(Socket(closed.clone())).unwrap();
        assert!(table.take::<File>(rid).is_err());
        assert!(table.take::<Socket>(rid).is_ok());
        assert!(!closed.load(Ordering::SeqCst));
        assert!(table.is_empty());
    }
}
