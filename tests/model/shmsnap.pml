/*
 * shmsnap notification protocol, as a Promela model for spin.
 *
 * It follows the library's real order of operations (lib/src/publisher/untyped_publisher.cpp,
 * lib/src/subscriber/waiter.hpp, lib/src/region/region_reader.cpp):
 *
 *   publisher (commit_write):  slot seqlock odd -> payload -> slot seq ->
 *                              seqlock even (release) -> store `published`
 *                              (release) -> mq_send O_NONBLOCK to every
 *                              registered subscriber; a full queue (EAGAIN)
 *                              counts as coalesced
 *   subscriber (wait_blocking): mq_timedreceive dequeues one notification (or a
 *                              50 ms slice ends: then the publisher's liveness
 *                              is checked) -> THEN load `published` and copy the
 *                              slot under its seqlock; deliver only when newer
 *                              than the local state. Stale: epoll on the queue
 *                              and the re-attach timer, one receive, re-attach.
 *   notify queue:              depth 1 (conflation), one consumer
 *   faults:                    the first publisher may be SIGKILLed at any step,
 *                              mid-write included, or shut down cleanly; its
 *                              successor (epoch 2) takes over, tells registered
 *                              subscribers EPOCH, registers them on HELLO before
 *                              its WELCOME; a stale subscriber re-attaches on
 *                              its timer.
 *
 * The 50 ms slice is modelled only where it matters for correctness (a dead
 * publisher): a subscriber that needed the slice's timeout to see a snapshot it
 * was notified of would have a lost wake-up turned into a 50 ms stall, and the
 * model must flag that, so a live-publisher timeout is not a transition here.
 *
 * Every Promela statement is atomic and sequentially consistent; the C++ code gets
 * the orderings used here from its release stores and acquire loads (each named
 * above). The payload is two halves written one after the other, so a torn copy
 * is visible as d1 != d2.
 *
 * Properties:
 *   - assert in Subscriber: no torn snapshot is ever accepted;
 *   - Monitor: no lost wake-up: the subscriber never blocks (nothing to wake it:
 *     queue empty, publisher alive, not stale) while the region holds a snapshot
 *     newer than its local state that the publisher has already notified for;
 *   - ltl converge: once the last publisher has stopped publishing, the
 *     subscriber eventually holds its final snapshot (checked with weak fairness).
 *
 * -DREAD_BEFORE_DRAIN swaps the subscriber's drain and read steps; spin must find
 * the lost wake-up that swap causes, and (with -DNO_MONITOR) that the subscriber
 * then never converges. -DNO_READ_RETRY drops the seqlock re-check, and spin must
 * find a torn read: proof that the assertion is not vacuous. verify.sh runs all.
 */

#define N1 3          /* publishes by the first publisher (epoch 1) */
#define N2 2          /* publishes by its successor (epoch 2) */
#define SLOTS 2
#define IX(r, s) ((r) * SLOTS + (s))

mtype = { UPDATE, SHUTDOWN, EPOCH, WELCOME };

chan q = [1] of { mtype };       /* the subscriber's notify queue: depth 1 */

/* Region r = 0 (epoch 1) and r = 1 (the successor, epoch 2). */
byte lock[4];                    /* slot seqlock word: odd while written */
byte d1[4];                      /* payload, first half */
byte d2[4];                      /* payload, second half */
byte sseq[4];                    /* slot's publish sequence */
byte pub_seq[2];                 /* `published` word: sequence ... */
byte pub_slot[2];                /* ... and slot index, one atomic store */
bool alive[2];                   /* publisher process runs (pidfd not readable) */
bool closed[2];                  /* region state word = closed (clean shutdown) */
bool exists[2];                  /* region name is in /dev/shm */
bool registered[2];              /* the subscriber is in that publisher's table */
byte notified[2];                /* newest seq whose notify step completed for it */
bool hello[2];                   /* a HELLO is on that publisher's control queue */
bool pub_done;                   /* the last publisher has stopped publishing */

/* Subscriber state, global so the monitor and the LTL formula can see it. */
byte att;                        /* region it follows */
byte local_seq;                  /* sequence of its local state (0: none) */
byte local_epoch;                /* epoch of its local state */
bool stale;
bool at_wait;                    /* blocked in epoll_wait */

/* The first publisher may be SIGKILLed here (at most once overall). */
#define MAY_CRASH  if :: (r == 0) -> goto crash :: true -> skip fi

proctype Publisher(byte r; byte n) {
  byte v = 0;
  byte s;
  byte cur = 0;
  do
  :: v < n ->
    v++;
    s = (cur + 1) % SLOTS;
    lock[IX(r, s)]++;                          /* write_begin: odd */
    MAY_CRASH;                                 /* SIGKILL mid-write */
    d1[IX(r, s)] = v;
    MAY_CRASH;
    d2[IX(r, s)] = v;
    sseq[IX(r, s)] = v;
    lock[IX(r, s)]++;                          /* write_end: even, release */
    atomic { pub_seq[r] = v; pub_slot[r] = s } /* published word, release */
    cur = s;
    MAY_CRASH;                                 /* published but not yet notified */
    atomic {                                   /* mq_send, O_NONBLOCK */
      if
      :: registered[r] ->
        if
        :: nfull(q) -> q!UPDATE
        :: full(q) -> skip                     /* EAGAIN: coalesced */
        fi;
        notified[r] = v
      :: else -> skip
      fi
    }
  :: v == n -> break
  od;
  if
  :: r == 0 ->
    if
    :: atomic {                                /* clean shutdown */
         closed[0] = true;
         if
         :: registered[0] && nfull(q) -> q!SHUTDOWN
         :: !registered[0] || full(q) -> skip  /* full: the pending message wakes it */
         fi;
         exists[0] = false;
         alive[0] = false
       }
    :: goto crash
    fi
  :: else -> pub_done = true                   /* successor: publishing stops, stays alive */
  fi;
  goto finish;
crash:
  alive[r] = false;                            /* SIGKILL: the pidfd becomes readable */
finish:
  skip
}

/* The successor's control thread: registers on HELLO, then WELCOME. */
proctype Control(byte r) {
  hello[r];
  atomic { hello[r] = false; registered[r] = true };   /* before WELCOME */
  q!WELCOME                                            /* send_for: waits for room */
}

proctype Successor() {
  (!alive[0]);
  atomic {
    if
    :: exists[0] ->                            /* dead owner's region: take it over */
      exists[0] = false;
      if
      :: registered[0] && nfull(q) -> q!EPOCH   /* announce_to_previous */
      :: !registered[0] || full(q) -> skip   /* full: a wake-up is pending */
      fi
    :: else -> skip
    fi;
    exists[1] = true;
    alive[1] = true
  };
  run Control(1);
  run Publisher(1, N2)
}

active proctype Subscriber() {
  mtype m;
  byte rs;
  byte rslot;
  byte begin;
  byte x1;
  byte x2;
  byte xseq;
  bool leaving;
  bool got;                                                /* this wake-up dequeued a message */
  bool going_stale;
  bool from_attach;                                        /* attach() ends in deliver_newest */

wait:
  at_wait = true;
endwait:                                                  /* blocked in mq_timedreceive / epoll_wait */
  if
#ifndef READ_BEFORE_DRAIN
  :: atomic { (!stale && nempty(q)) -> at_wait = false; q?m; got = true }  /* mq_timedreceive: one message */
#else
  :: atomic { (!stale && nempty(q)) -> at_wait = false; got = false }      /* only readable, not yet dequeued */
#endif
  :: atomic { (!stale && !alive[att]) -> at_wait = false; got = false }    /* slice ends, publisher gone */
  :: atomic { stale -> at_wait = false; got = false }                      /* re-attach timer (epoll) */
  fi;
  leaving = got && m == SHUTDOWN;

  if
  :: stale ->
    /* process(): drain_notifications (one receive), then try_reattach */
    if
    :: q?m
    :: empty(q) -> skip
    fi;
    goto timer
  :: else -> skip
  fi;

#ifdef READ_BEFORE_DRAIN
  goto deliver;                                            /* read first ... */
after_deliver:
  if                                                       /* ... then dequeue */
  :: q?m -> got = true; leaving = m == SHUTDOWN
  :: empty(q) -> skip
  fi;
  goto check_publisher;
#endif
  /* after_wakeup: a SHUTDOWN, a closed region, or (no message) a dead publisher */
  if
  :: leaving || closed[att] || (!got && !alive[att]) ->
    going_stale = true                                     /* deliver the final snapshot, then stale */
  :: else -> skip
  fi;

deliver:
  /* deliver_newest: copy the published slot under its seqlock */
  if
  :: pub_seq[att] == local_seq -> goto delivered
  :: else -> skip
  fi;
retry:
  atomic { rs = pub_seq[att]; rslot = pub_slot[att] };   /* acquire load of published */
  if
  :: rs == 0 -> goto delivered
  :: else -> skip
  fi;
  begin = lock[IX(att, rslot)];                            /* read_begin, acquire */
  if
  :: begin % 2 == 1 -> goto lapped
  :: else -> skip
  fi;
  x1 = d1[IX(att, rslot)];
  x2 = d2[IX(att, rslot)];
  xseq = sseq[IX(att, rslot)];
#ifndef NO_READ_RETRY
  if
  :: lock[IX(att, rslot)] != begin -> goto lapped          /* read_retry */
  :: else -> skip
  fi;
#endif
  assert(x1 == x2 && x1 == xseq);                            /* no torn read accepted */
  if
  :: xseq > local_seq -> local_seq = xseq; local_epoch = att + 1
  :: else -> skip                                          /* not newer: not delivered */
  fi;
  goto delivered;
lapped:
  if
  :: alive[att] -> goto retry                              /* the writer will finish */
  :: else -> going_stale = false; stale = true; goto wait  /* died while writing */
  fi;

delivered:
  if
  :: from_attach -> from_attach = false; goto wait        /* attach returns here */
  :: else -> skip
  fi;
#ifdef READ_BEFORE_DRAIN
  goto after_deliver;
check_publisher:
  if
  :: leaving || closed[att] || (!got && !alive[att]) -> going_stale = true
  :: else -> skip
  fi;
#endif
  if
  :: going_stale -> going_stale = false; stale = true
  :: else -> skip
  fi;
  goto wait;

timer:
  /* try_reattach: a new, live region under the topic's name */
  if
  :: att == 0 && exists[1] && alive[1] ->
    att = 1;
    do                                                     /* leftovers of the old publisher */
    :: q?m
    :: empty(q) -> break
    od;
    hello[1] = true;                                       /* HELLO */
    do                                                     /* wait for WELCOME */
    :: q?m ->
      if
      :: m == WELCOME -> break
      :: else -> skip                                      /* UPDATEs are ignored here */
      fi
    od;
    stale = false;
    local_seq = 0;
    from_attach = true;
    goto deliver                                           /* late joiner reads at once */
  :: else -> goto wait
  fi
}

#ifndef NO_MONITOR
active proctype Monitor() {
endmonitor:
  atomic {
    (at_wait && empty(q) && !stale && alive[att] && local_seq < notified[att]) ->
      assert(false)                                        /* lost wake-up */
  }
}
#endif

init {
  atomic {
    exists[0] = true;
    alive[0] = true;
    registered[0] = true;       /* attached before the first publish */
    att = 0;
    run Publisher(0, N1);
    run Successor()
  }
}

ltl converge { [] (pub_done -> <> (local_epoch == 2 && local_seq == N2)) }
