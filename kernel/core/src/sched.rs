//! Which task runs next: a run queue fair by virtual runtime (CFS-like).
//!
//! Every task has a *vruntime*: the CPU time it has really received (all
//! tasks weigh the same). The scheduler always picks the runnable task with
//! the least vruntime, so over time CPU-bound tasks converge to equal
//! shares. The details follow Linux's CFS (`kernel/sched/fair.c`) in
//! simplified form:
//!
//! * `min_vruntime` is a monotonic floor: the least vruntime among the
//!   running and ready tasks, never moving backwards.
//! * A new task starts at `min_vruntime`; a woken task gets
//!   `max(own, min_vruntime - wake_credit)`: a sleeper is favoured a little
//!   (it runs soon after waking: good for interactive tasks), but cannot
//!   hoard the time it slept and then monopolise the CPU.
//! * Sleeping tasks are not in the queue and cost nothing.
//! * The time slice is `latency / runnable` but at least
//!   `min_granularity`; a running task is preempted when its slice is over
//!   and another task is ready, or when a woken task's vruntime is behind
//!   by more than `wakeup_granularity`.
//! * Tickless: with one runnable task no preemption timer is needed at all;
//!   with none the CPU sleeps until the next timer ([`RunQueue::next_event`]).
//!
//! The kernel calls [`RunQueue::schedule`] at every switch point with the
//! current time; this module holds no clock. Task ids are any `Ord + Copy`
//! type (the kernel's pid/tid).

use alloc::collections::{BTreeMap, BTreeSet};
use core::fmt;

/// Tunables, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchedConfig {
    /// Period in which every runnable task should run once
    /// (`sysctl_sched_latency`, 6 ms).
    pub latency_ns: u64,
    /// Shortest slice, however many tasks are runnable (0.75 ms).
    pub min_granularity_ns: u64,
    /// How far behind `min_vruntime` a waking sleeper may be placed.
    pub wake_credit_ns: u64,
    /// A woken task preempts the current one if it is this far behind
    /// (`sysctl_sched_wakeup_granularity`, 1 ms).
    pub wakeup_granularity_ns: u64,
}

impl Default for SchedConfig {
    fn default() -> Self {
        SchedConfig {
            latency_ns: 6_000_000,
            min_granularity_ns: 750_000,
            wake_credit_ns: 3_000_000,
            wakeup_granularity_ns: 1_000_000,
        }
    }
}

/// Where a task is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// In the queue, waiting for the CPU.
    Ready,
    /// On the CPU.
    Running,
    /// Blocked; not in the queue.
    Sleeping,
}

/// A run-queue operation named a task wrongly: a kernel bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchedError {
    /// The id is not in the run queue.
    UnknownTask,
    /// `add` of an id that is already there.
    AlreadyPresent,
}

impl fmt::Display for SchedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchedError::UnknownTask => f.write_str("task is not in the run queue"),
            SchedError::AlreadyPresent => f.write_str("task is already in the run queue"),
        }
    }
}

impl core::error::Error for SchedError {}

#[derive(Clone, Copy, Debug)]
struct Task {
    vruntime: u64,
    state: TaskState,
    /// Position among equal vruntimes (FIFO).
    sequence: u64,
    runtime_ns: u64,
}

/// The run queue of one CPU.
#[derive(Clone, Debug)]
pub struct RunQueue<K: Ord + Copy> {
    tasks: BTreeMap<K, Task>,
    /// Ready tasks ordered by (vruntime, sequence).
    ready: BTreeSet<(u64, u64, K)>,
    /// The running task and when it started its current stint.
    current: Option<(K, u64)>,
    min_vruntime: u64,
    next_sequence: u64,
    config: SchedConfig,
}

impl<K: Ord + Copy> Default for RunQueue<K> {
    fn default() -> Self {
        Self::new(SchedConfig::default())
    }
}

impl<K: Ord + Copy> RunQueue<K> {
    pub fn new(config: SchedConfig) -> Self {
        RunQueue {
            tasks: BTreeMap::new(),
            ready: BTreeSet::new(),
            current: None,
            min_vruntime: 0,
            next_sequence: 0,
            config,
        }
    }

    pub fn config(&self) -> &SchedConfig {
        &self.config
    }

    /// The running task.
    pub fn current(&self) -> Option<K> {
        self.current.map(|(id, _)| id)
    }

    pub fn state(&self, id: K) -> Option<TaskState> {
        self.tasks.get(&id).map(|task| task.state)
    }

    pub fn vruntime(&self, id: K) -> Option<u64> {
        self.tasks.get(&id).map(|task| task.vruntime)
    }

    /// CPU time charged to `id` so far (up to the last switch point).
    pub fn runtime_ns(&self, id: K) -> Option<u64> {
        self.tasks.get(&id).map(|task| task.runtime_ns)
    }

    pub fn min_vruntime(&self) -> u64 {
        self.min_vruntime
    }

    /// Tasks waiting in the queue (not counting the running one).
    pub fn ready_count(&self) -> usize {
        self.ready.len()
    }

    /// Ready plus running.
    pub fn runnable_count(&self) -> usize {
        self.ready.len() + usize::from(self.current.is_some())
    }

    /// Tasks known, sleeping ones included.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Nothing to run: the CPU may sleep.
    pub fn is_idle(&self) -> bool {
        self.runnable_count() == 0
    }

    fn enqueue(&mut self, id: K) {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        let task = self.tasks.get_mut(&id).expect("enqueue of a known task");
        task.state = TaskState::Ready;
        task.sequence = sequence;
        self.ready.insert((task.vruntime, sequence, id));
    }

    fn dequeue(&mut self, id: K) {
        let task = self.tasks[&id];
        self.ready.remove(&(task.vruntime, task.sequence, id));
    }

    fn update_min_vruntime(&mut self) {
        let running = self.current.map(|(id, _)| self.tasks[&id].vruntime);
        let leftmost = self.ready.first().map(|&(vruntime, _, _)| vruntime);
        let floor = match (running, leftmost) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => return,
        };
        self.min_vruntime = self.min_vruntime.max(floor);
    }

    /// Charges the running task for its stint up to `now_ns`.
    fn charge_current(&mut self, now_ns: u64) {
        if let Some((id, since)) = self.current {
            let ran = now_ns.saturating_sub(since);
            let task = self.tasks.get_mut(&id).expect("current is known");
            task.vruntime = task.vruntime.saturating_add(ran);
            task.runtime_ns = task.runtime_ns.saturating_add(ran);
            self.current = Some((id, now_ns));
        }
        self.update_min_vruntime();
    }

    /// A new task, ready to run, placed at `min_vruntime`.
    pub fn add(&mut self, id: K) -> Result<(), SchedError> {
        if self.tasks.contains_key(&id) {
            return Err(SchedError::AlreadyPresent);
        }
        self.tasks.insert(
            id,
            Task {
                vruntime: self.min_vruntime,
                state: TaskState::Ready,
                sequence: 0,
                runtime_ns: 0,
            },
        );
        self.enqueue(id);
        Ok(())
    }

    /// Forgets a task (it exited). If it was running, the CPU has no
    /// current task until the next `schedule`.
    pub fn remove(&mut self, id: K) -> Result<(), SchedError> {
        let task = *self.tasks.get(&id).ok_or(SchedError::UnknownTask)?;
        match task.state {
            TaskState::Ready => self.dequeue(id),
            TaskState::Running => self.current = None,
            TaskState::Sleeping => {}
        }
        self.tasks.remove(&id);
        Ok(())
    }

    /// The task blocks (waits for I/O, a child, a timer). A running task is
    /// charged up to `now_ns`; the kernel then calls `schedule`.
    pub fn sleep(&mut self, id: K, now_ns: u64) -> Result<(), SchedError> {
        let state = self.state(id).ok_or(SchedError::UnknownTask)?;
        match state {
            TaskState::Running => {
                self.charge_current(now_ns);
                self.current = None;
            }
            TaskState::Ready => self.dequeue(id),
            TaskState::Sleeping => return Ok(()),
        }
        self.tasks.get_mut(&id).expect("checked above").state = TaskState::Sleeping;
        Ok(())
    }

    /// Makes a sleeping task ready. Returns false if it was not sleeping
    /// (a spurious or repeated wake-up is harmless).
    pub fn wake(&mut self, id: K) -> Result<bool, SchedError> {
        let task = self.tasks.get_mut(&id).ok_or(SchedError::UnknownTask)?;
        if task.state != TaskState::Sleeping {
            return Ok(false);
        }
        let floor = self.min_vruntime.saturating_sub(self.config.wake_credit_ns);
        task.vruntime = task.vruntime.max(floor);
        self.enqueue(id);
        Ok(true)
    }

    /// True if the just-woken `id` should preempt the running task now.
    pub fn wakeup_preempts(&self, id: K, now_ns: u64) -> bool {
        let (Some((current, since)), Some(woken)) = (self.current, self.tasks.get(&id)) else {
            return false;
        };
        if woken.state != TaskState::Ready {
            return false;
        }
        let current_vruntime = self.tasks[&current].vruntime + now_ns.saturating_sub(since);
        current_vruntime
            > woken
                .vruntime
                .saturating_add(self.config.wakeup_granularity_ns)
    }

    /// The slice a task gets with the current number of runnable tasks.
    pub fn slice_ns(&self) -> u64 {
        let runnable = self.runnable_count().max(1) as u64;
        (self.config.latency_ns / runnable).max(self.config.min_granularity_ns)
    }

    /// At a switch point: charges the running task, puts it back in the
    /// queue if still runnable, and picks the ready task with the least
    /// vruntime. `None`: idle.
    pub fn schedule(&mut self, now_ns: u64) -> Option<K> {
        self.charge_current(now_ns);
        if let Some((id, _)) = self.current.take() {
            self.enqueue(id);
        }
        self.run_leftmost(now_ns, None)
    }

    /// `sched_yield`: like `schedule`, but another ready task goes first
    /// if there is one.
    pub fn yield_current(&mut self, now_ns: u64) -> Option<K> {
        self.charge_current(now_ns);
        let yielder = self.current.take().map(|(id, _)| id);
        if let Some(id) = yielder {
            self.enqueue(id);
        }
        self.run_leftmost(now_ns, yielder)
    }

    fn run_leftmost(&mut self, now_ns: u64, avoid: Option<K>) -> Option<K> {
        let chosen = self
            .ready
            .iter()
            .find(|&&(_, _, id)| Some(id) != avoid || self.ready.len() == 1)
            .copied()?;
        self.ready.remove(&chosen);
        let id = chosen.2;
        self.tasks
            .get_mut(&id)
            .expect("ready tasks are known")
            .state = TaskState::Running;
        self.current = Some((id, now_ns));
        self.update_min_vruntime();
        Some(id)
    }

    /// When the running task's slice ends, if another task is waiting for
    /// it; `None` when no preemption is due (alone, or idle).
    pub fn preemption_deadline(&self) -> Option<u64> {
        let (_, since) = self.current?;
        if self.ready.is_empty() {
            return None;
        }
        Some(since.saturating_add(self.slice_ns()))
    }

    /// At a timer interrupt: should the running task give up the CPU?
    pub fn should_preempt(&self, now_ns: u64) -> bool {
        self.preemption_deadline()
            .is_some_and(|deadline| now_ns >= deadline)
    }

    /// Tickless decision: the one-shot timer to arm, given the earliest
    /// kernel timer. `None` with [`is_idle`](Self::is_idle) means "block
    /// until an event"; `None` while running means "no timer needed".
    pub fn next_event(&self, next_timer_ns: Option<u64>) -> Option<u64> {
        match (self.preemption_deadline(), next_timer_ns) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (deadline, None) => deadline,
            (None, timer) => timer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap as Map;
    use std::vec::Vec;

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn picks_least_vruntime_in_fifo_order() {
        let mut queue = RunQueue::default();
        for id in 1..=3u32 {
            queue.add(id).unwrap();
        }
        assert_eq!(
            queue.schedule(0),
            Some(1),
            "equal vruntime: first added first"
        );
        assert_eq!(queue.schedule(1_000), Some(2));
        assert_eq!(queue.schedule(2_000), Some(3));
        assert_eq!(queue.schedule(2_500), Some(3), "3 has run least");
        assert_eq!(queue.schedule(3_000), Some(1));
        assert_eq!(queue.runtime_ns(1), Some(1_000));
        assert_eq!(queue.runtime_ns(3), Some(1_000));
    }

    #[test]
    fn unknown_and_duplicate_tasks() {
        let mut queue: RunQueue<u32> = RunQueue::default();
        assert_eq!(queue.add(1), Ok(()));
        assert_eq!(queue.add(1), Err(SchedError::AlreadyPresent));
        assert_eq!(queue.wake(9), Err(SchedError::UnknownTask));
        assert_eq!(queue.sleep(9, 0), Err(SchedError::UnknownTask));
        assert_eq!(queue.remove(9), Err(SchedError::UnknownTask));
        assert_eq!(queue.wake(1), Ok(false), "not sleeping");
    }

    #[test]
    fn sleepers_leave_the_queue_and_idle_is_reported() {
        let mut queue = RunQueue::default();
        queue.add(1u32).unwrap();
        assert_eq!(queue.schedule(0), Some(1));
        assert_eq!(queue.next_event(None), None, "alone: no tick");
        assert_eq!(queue.next_event(Some(50)), Some(50));
        queue.sleep(1, 400).unwrap();
        assert_eq!(queue.state(1), Some(TaskState::Sleeping));
        assert!(queue.is_idle());
        assert_eq!(queue.schedule(400), None);
        assert_eq!(
            queue.next_event(Some(9_000)),
            Some(9_000),
            "sleep until the timer"
        );
        assert_eq!(queue.next_event(None), None, "sleep until any event");
        assert_eq!(queue.wake(1), Ok(true));
        assert_eq!(queue.schedule(10_000), Some(1));
        assert_eq!(queue.runtime_ns(1), Some(400), "sleep time is not charged");
    }

    #[test]
    fn slices_and_preemption() {
        let mut queue = RunQueue::default();
        queue.add(1u32).unwrap();
        queue.add(2).unwrap();
        assert_eq!(queue.slice_ns(), 3_000_000);
        assert_eq!(queue.schedule(0), Some(1));
        assert_eq!(queue.preemption_deadline(), Some(3_000_000));
        assert!(!queue.should_preempt(2_999_999));
        assert!(queue.should_preempt(3_000_000));
        assert_eq!(queue.next_event(Some(1_000)), Some(1_000));
        for id in 3..=20 {
            queue.add(id).unwrap();
        }
        assert_eq!(queue.slice_ns(), 750_000, "floor at min granularity");
    }

    #[test]
    fn yield_lets_another_task_run() {
        let mut queue = RunQueue::default();
        queue.add(1u32).unwrap();
        queue.add(2).unwrap();
        assert_eq!(queue.schedule(0), Some(1));
        assert_eq!(
            queue.yield_current(10),
            Some(2),
            "1 has the least vruntime but yields"
        );
        queue.sleep(2, 20).unwrap();
        assert_eq!(queue.yield_current(20), Some(1));
        assert_eq!(queue.yield_current(30), Some(1), "alone: keeps running");
    }

    #[test]
    fn removing_the_running_task() {
        let mut queue = RunQueue::default();
        queue.add(1u32).unwrap();
        queue.add(2).unwrap();
        assert_eq!(queue.schedule(0), Some(1));
        queue.remove(1).unwrap();
        assert_eq!(queue.current(), None);
        assert_eq!(queue.schedule(5), Some(2));
        assert_eq!(queue.len(), 1);
    }

    #[test]
    fn woken_sleeper_gets_bounded_credit() {
        let config = SchedConfig::default();
        let mut queue = RunQueue::new(config);
        queue.add(1u32).unwrap();
        queue.add(2).unwrap();
        queue.schedule(0);
        queue.sleep(2, 0).unwrap_or(());
        // Task 1 runs alone for a long time.
        let mut now = 0;
        for _ in 0..1000 {
            now += 1_000_000;
            queue.schedule(now);
        }
        assert_eq!(queue.min_vruntime(), 1_000_000_000);
        queue.wake(2).unwrap();
        assert_eq!(
            queue.vruntime(2),
            Some(1_000_000_000 - config.wake_credit_ns),
            "placed just behind min_vruntime, not at its stale 0"
        );
        assert!(queue.wakeup_preempts(2, now + 500_000));
        assert!(!queue.wakeup_preempts(1, now));
        // The sleeper runs first but only for about its credit before
        // sharing again.
        let mut ran = Map::new();
        for _ in 0..20 {
            let id = queue.schedule(now).unwrap();
            now += 500_000;
            *ran.entry(id).or_insert(0u64) += 500_000;
        }
        assert!(
            ran[&2] <= 5_000_000 + config.wake_credit_ns + 500_000,
            "{ran:?}"
        );
        assert!(ran[&1] >= 2_000_000, "{ran:?}");
    }

    #[test]
    fn seeded_cpu_bound_tasks_share_fairly() {
        for seed in [1u64, 0xdead_beef, 0x1234_5678_9abc] {
            let mut rng = Rng(seed);
            let mut queue = RunQueue::default();
            let tasks = 2 + (rng.next() % 7) as u32;
            for id in 0..tasks {
                queue.add(id).unwrap();
            }
            let mut now = 0u64;
            queue.schedule(now);
            for _ in 0..20_000 {
                // Run until the slice ends or a random earlier interrupt.
                let deadline = queue.preemption_deadline().unwrap();
                let step = 1 + rng.next() % (deadline - now).max(1);
                now += step.min(deadline - now).max(1);
                if queue.should_preempt(now) || rng.next() % 4 == 0 {
                    queue.schedule(now);
                }
            }
            queue.schedule(now);
            let total: u64 = (0..tasks).map(|id| queue.runtime_ns(id).unwrap()).sum();
            assert_eq!(total, now, "every nanosecond is charged to someone");
            let fair = total / u64::from(tasks);
            for id in 0..tasks {
                let got = queue.runtime_ns(id).unwrap();
                let error = got.abs_diff(fair);
                assert!(
                    error <= 2 * queue.config().latency_ns,
                    "seed {seed:#x}: task {id} got {got} ns of fair {fair} ns"
                );
            }
        }
    }

    #[test]
    fn seeded_sleepers_cannot_hoard() {
        // Half the tasks sleep at random; when runnable they must not get
        // more than the CPU-bound tasks, and the CPU-bound tasks stay
        // within a tolerance of each other.
        let mut rng = Rng(0x5eed);
        let mut queue = RunQueue::default();
        let hogs: Vec<u32> = (0..3).collect();
        let sleepers: Vec<u32> = (3..6).collect();
        for &id in hogs.iter().chain(&sleepers) {
            queue.add(id).unwrap();
        }
        let mut now = 0u64;
        let mut sleeping: Vec<u32> = Vec::new();
        queue.schedule(now);
        for _ in 0..50_000 {
            now += 100_000 + rng.next() % 400_000;
            let current = queue.current();
            if let Some(id) = current {
                if sleepers.contains(&id) && rng.next() % 3 == 0 {
                    queue.sleep(id, now).unwrap();
                    sleeping.push(id);
                }
            }
            if !sleeping.is_empty() && rng.next() % 5 == 0 {
                let id = sleeping.remove((rng.next() % sleeping.len() as u64) as usize);
                queue.wake(id).unwrap();
            }
            if queue.current().is_none() || queue.should_preempt(now) {
                queue.schedule(now);
            }
        }
        queue.schedule(now);
        let hog_times: Vec<u64> = hogs
            .iter()
            .map(|&id| queue.runtime_ns(id).unwrap())
            .collect();
        let max_hog = *hog_times.iter().max().unwrap();
        let min_hog = *hog_times.iter().min().unwrap();
        assert!(
            max_hog - min_hog <= max_hog / 20,
            "hogs diverge: {hog_times:?}"
        );
        for &id in &sleepers {
            let got = queue.runtime_ns(id).unwrap();
            assert!(
                got <= max_hog + max_hog / 20,
                "sleeper {id} got {got}, hogs {hog_times:?}"
            );
        }
    }
}
