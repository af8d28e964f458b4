//! `poll_oneoff`: clock subscriptions with real sleeping, and descriptor readiness.
//!
//! Every descriptor answers [`Entry::readiness`]: always-ready kinds (regular files,
//! directories, in-memory stdio) complete at once; the rest (terminals, pipes, sockets)
//! are host descriptors, all waited on together with one `poll(2)` whose timeout is the
//! earliest clock deadline. With only clocks to wait for, the host thread sleeps (at
//! nanosecond precision) until the earliest deadline.

use std::time::{Duration, Instant};

use crate::ctx::WasiCtx;
use crate::errno::Errno;
use crate::fdtable::Readiness;
use crate::host;
use crate::mem::GuestMemory;
use crate::preview1::WasiResult;
use crate::types::{self, clockid, eventtype, EVENTRWFLAGS_HANGUP, SUBSCRIPTION_CLOCK_ABSTIME};

struct Event {
    userdata: u64,
    error: Errno,
    kind: u8,
    nbytes: u64,
    hangup: bool,
}

impl Event {
    fn bytes(&self) -> [u8; types::EVENT_SIZE as usize] {
        let mut b = [0u8; types::EVENT_SIZE as usize];
        b[0..8].copy_from_slice(&self.userdata.to_le_bytes());
        b[8..10].copy_from_slice(&self.error.0.to_le_bytes());
        b[10] = self.kind;
        b[16..24].copy_from_slice(&self.nbytes.to_le_bytes());
        let flags = if self.hangup { EVENTRWFLAGS_HANGUP } else { 0 };
        b[24..26].copy_from_slice(&flags.to_le_bytes());
        b
    }
}

enum Pending {
    /// A clock that fires at `deadline` (`None`: too far away to ever fire).
    Clock {
        userdata: u64,
        deadline: Option<Instant>,
    },
    /// A host descriptor waiting for `poll(2)`; `slot` indexes the pollfd array.
    Fd {
        userdata: u64,
        kind: u8,
        slot: usize,
    },
}

impl WasiCtx {
    /// `poll_oneoff(in, out, nsubscriptions) -> nevents`.
    pub fn poll_oneoff(
        &mut self,
        m: &mut GuestMemory<'_>,
        subs: u32,
        events: u32,
        nsubs: u32,
        nevents: u32,
    ) -> WasiResult {
        if nsubs == 0 {
            // Waiting for nothing would block forever.
            return Err(Errno::INVAL);
        }
        m.check_array(subs, nsubs, types::SUBSCRIPTION_SIZE)?;
        m.check_array(events, nsubs, types::EVENT_SIZE)?;
        m.check_array(nevents, 1, 4)?;

        let mut ready: Vec<Event> = Vec::new();
        let mut pending: Vec<Pending> = Vec::new();
        let mut pollfds: Vec<libc::pollfd> = Vec::new();
        let start = Instant::now();
        for i in 0..nsubs {
            let at = subs + i * types::SUBSCRIPTION_SIZE;
            let userdata = m.read_u64(at)?;
            let tag = m.read_u8(at + 8)?;
            match tag {
                eventtype::CLOCK => {
                    let id = m.read_u32(at + 16)?;
                    let timeout = m.read_u64(at + 24)?;
                    let flags = m.read_u16(at + 40)?;
                    let wait = if flags & SUBSCRIPTION_CLOCK_ABSTIME != 0 {
                        match host::clock_time(id) {
                            Some(Ok(now)) => Ok(timeout.saturating_sub(now)),
                            Some(Err(e)) => Err(Errno::from(e)),
                            None => Err(Errno::INVAL),
                        }
                    } else if id <= clockid::THREAD_CPUTIME_ID {
                        Ok(timeout)
                    } else {
                        Err(Errno::INVAL)
                    };
                    match wait {
                        Ok(ns) => pending.push(Pending::Clock {
                            userdata,
                            deadline: start.checked_add(Duration::from_nanos(ns)),
                        }),
                        Err(error) => ready.push(Event {
                            userdata,
                            error,
                            kind: eventtype::CLOCK,
                            nbytes: 0,
                            hangup: false,
                        }),
                    }
                }
                eventtype::FD_READ | eventtype::FD_WRITE => {
                    let fd = m.read_u32(at + 16)?;
                    let read = tag == eventtype::FD_READ;
                    let readiness = self.table.get(fd).and_then(|e| e.readiness(read));
                    match readiness {
                        Ok(Readiness::Ready { nbytes, hangup }) => ready.push(Event {
                            userdata,
                            error: Errno::SUCCESS,
                            kind: tag,
                            nbytes,
                            hangup,
                        }),
                        Ok(Readiness::Host(raw)) => {
                            pending.push(Pending::Fd {
                                userdata,
                                kind: tag,
                                slot: pollfds.len(),
                            });
                            pollfds.push(libc::pollfd {
                                fd: raw,
                                events: if read { libc::POLLIN } else { libc::POLLOUT },
                                revents: 0,
                            });
                        }
                        Err(error) => ready.push(Event {
                            userdata,
                            error,
                            kind: tag,
                            nbytes: 0,
                            hangup: false,
                        }),
                    }
                }
                _ => return Err(Errno::INVAL),
            }
        }

        loop {
            let now = Instant::now();
            let earliest = pending
                .iter()
                .filter_map(|p| match p {
                    Pending::Clock { deadline, .. } => *deadline,
                    Pending::Fd { .. } => None,
                })
                .min();
            let clock_due = earliest.is_some_and(|d| d <= now);
            if !ready.is_empty() || clock_due {
                // Something is done: report it with whatever else is ready right now.
                if !pollfds.is_empty() {
                    host::poll(&mut pollfds, 0)?;
                }
                break;
            }
            if pollfds.is_empty() {
                // Only clocks (every subscription is one of those or already ready).
                // `None`: deadlines too far away to ever come; wait "forever".
                let wait = earliest.map_or(Duration::from_secs(3600), |d| {
                    d.saturating_duration_since(now)
                });
                std::thread::sleep(wait);
                continue;
            }
            let timeout_ms = match earliest {
                Some(deadline) => {
                    let ns = deadline.saturating_duration_since(now).as_nanos();
                    let ms = ns.div_ceil(1_000_000);
                    libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX)
                }
                None => -1,
            };
            if host::poll(&mut pollfds, timeout_ms)? > 0 {
                break;
            }
        }

        let now = Instant::now();
        for p in &pending {
            match *p {
                Pending::Clock { userdata, deadline } => {
                    if deadline.is_some_and(|d| d <= now) {
                        ready.push(Event {
                            userdata,
                            error: Errno::SUCCESS,
                            kind: eventtype::CLOCK,
                            nbytes: 0,
                            hangup: false,
                        });
                    }
                }
                Pending::Fd {
                    userdata,
                    kind,
                    slot,
                } => {
                    let revents = pollfds[slot].revents;
                    if revents == 0 {
                        continue;
                    }
                    let error = if revents & libc::POLLNVAL != 0 {
                        Errno::BADF
                    } else {
                        Errno::SUCCESS
                    };
                    ready.push(Event {
                        userdata,
                        error,
                        kind,
                        nbytes: 1,
                        hangup: revents & (libc::POLLHUP | libc::POLLERR) != 0,
                    });
                }
            }
        }
        let count = ready.len().min(nsubs as usize);
        for (i, e) in ready.iter().take(count).enumerate() {
            m.write(events + i as u32 * types::EVENT_SIZE, &e.bytes())?;
        }
        m.write_u32(nevents, count as u32)
    }
}
