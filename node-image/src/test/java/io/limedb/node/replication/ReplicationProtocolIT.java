package io.limedb.node.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.limedb.api.v1.DeleteRequest;
import io.limedb.api.v1.ExecuteRequest;
import io.limedb.api.v1.ExecuteResponse;
import io.limedb.api.v1.FenceRequest;
import io.limedb.api.v1.FollowRequest;
import io.limedb.api.v1.GetRequest;
import io.limedb.api.v1.MemberRole;
import io.limedb.api.v1.Op;
import io.limedb.api.v1.PrimaryMessage;
import io.limedb.api.v1.PromoteRequest;
import io.limedb.api.v1.PutCondition;
import io.limedb.api.v1.PutRequest;
import io.limedb.api.v1.ReplicaAck;
import io.limedb.api.v1.ReplicaHello;
import io.limedb.api.v1.ReplicaMessage;
import io.limedb.api.v1.ReplicationGrpc;
import io.limedb.api.v1.ScanRequest;
import io.limedb.api.v1.ShardGrpc;
import io.limedb.api.v1.StatusRequest;
import io.limedb.api.v1.StatusResponse;
import io.limedb.node.config.NodeConfig;
import io.limedb.node.errors.ErrorCode;
import io.limedb.node.shard.ShardNode;
import java.io.IOException;
import io.limedb.testkit.net.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.assertj.core.api.SoftAssertions;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The replication protocol as an operator and a client see it: fencing, promotion, read leases,
 * acknowledgements, storage identity and epochs, on real shard nodes in this JVM (RocksDB in a temp
 * directory, gRPC on 127.0.0.1). Roles are driven with the Replication service's Promote, Follow and
 * Fence RPCs, as a controller would; a replica that misbehaves is a raw Replicate stream.
 */
class ReplicationProtocolIT {
    private static final long ACK_TIMEOUT_MS = 500;
    private static final long LEASE_MS = 300;
    /** How long a new primary waits before it serves: lease.ms + 10% + 10 ms. */
    private static final long LEASE_WAIT_MS = LEASE_MS + LEASE_MS / 10 + 10;
    private static final String ABSENT = "<absent>";
    private static final List<String> ERROR_CODES = Arrays.stream(ErrorCode.values()).map(Enum::name).toList();

    @TempDir
    Path dir;

    private final List<Member> members = new ArrayList<>();
    private final List<RawReplica> raws = new ArrayList<>();
    // Not the common pool: on a 2-core machine it has one thread, and the tests block in it.
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stopEverything() {
        pool.shutdownNow();
        raws.forEach(RawReplica::close);
        // Fenced first, nobody follows anybody: no node waits on another's open Replicate stream.
        for (Member m : members) {
            if (m.node == null) continue;
            try {
                fence(m, Long.MAX_VALUE / 2);
            } catch (RuntimeException ignored) {
                // stopping anyway
            }
        }
        for (Member m : members) m.stop();
    }

    // ---- 1. fencing a quorum --------------------------------------------------------------------

    @Test
    void aFencedQuorumGivesTheDeposedPrimaryNoAcknowledgement() throws Exception {
        Member p = member("p", 2), a = member("a", 2), b = member("b", 2);
        replicate(1, p, a, b);
        assertThat(set(p, 1, "k", "v1")).isEqualTo("OK");
        awaitSameLastSeq(p, a, b);

        var fa = fence(a, 2);
        var fb = fence(b, 2);
        for (var f : List.of(fa, fb)) {
            assertThat(f.getEpoch()).isEqualTo(2);
            assertThat(f.getRole()).isEqualTo(MemberRole.ROLE_UNKNOWN);
        }

        // P was told nothing: it still believes it is the primary of epoch 1. No write of it is
        // acknowledged: refused up front, or outcome unknown once the acknowledgements did not come.
        assertThat(status(p).getRole()).isEqualTo(MemberRole.PRIMARY);
        for (int i = 0; i < 3; i++) {
            long start = System.nanoTime();
            String answer = set(p, 1, "k", "deposed-" + i);
            assertThat(answer).isIn("OUTCOME_UNKNOWN", "NOT_ENOUGH_REPLICAS");
            if (answer.equals("OUTCOME_UNKNOWN")) assertThat(millisSince(start)).isGreaterThanOrEqualTo(ACK_TIMEOUT_MS);
        }
        Thread.sleep(ACK_TIMEOUT_MS); // time for anything late to arrive
        for (var f : List.of(fa, fb)) {
            Member m = f.getNodeId().equals("a") ? a : b;
            var s = status(m);
            assertThat(s.getEpoch()).isEqualTo(2);
            assertThat(s.getLastSeq()).as("%s applied nothing after its fence", m.id).isEqualTo(f.getLastSeq());
            assertThat(replicaRead(m, "k")).isEqualTo("v1");
        }
        assertThat(status(p).getCommitSeq()).isEqualTo(fa.getLastSeq());
    }

    // ---- 2. promotion after the fence ----------------------------------------------------------

    @Test
    void aPromotedMemberWaitsOutTheLeaseThenServesAndTheOldPrimaryRejoinsWithItsData() throws Exception {
        Member p = member("p", 2), a = member("a", 2), b = member("b", 2);
        replicate(1, p, a, b);
        // A third replica that is cut off at the fence: it keeps P's last write in sync but never
        // acknowledges it, so P is left with a record of its own that nobody else has.
        var cutOff = raw(p, "cut-off", 1);
        awaitStatus(p, s -> s.getInSyncReplicas() == 3);
        for (int i = 0; i < 20; i++) assertThat(set(p, 1, "k" + i, "v" + i)).isEqualTo("OK");
        awaitSameLastSeq(p, a, b);

        cutOff.ackRecords = false;
        cutOff.ackStamps = false;
        fence(a, 2);
        fence(b, 2);
        assertThat(set(p, 1, "lost", "x")).isEqualTo("OUTCOME_UNKNOWN");

        long promotedAt = System.nanoTime();
        var promoted = promote(a, 2);
        assertThat(promoted.getRole()).isEqualTo(MemberRole.PRIMARY);
        assertThat(promoted.getServing()).isFalse();
        assertThat(promoted.getLastEpoch()).as("its epoch opens with a record of its own").isEqualTo(2);
        assertThat(follow(b, a, 2).getRole()).isEqualTo(MemberRole.REPLICA);
        String early = set(a, 2, "early", "e");
        if (millisSince(promotedAt) < LEASE_WAIT_MS) assertThat(early).isEqualTo("NO_LEASE");

        String first;
        while ((first = get(a, 2, "k0")).equals("NO_LEASE")) Thread.sleep(5);
        assertThat(first).isEqualTo("v0");
        assertThat(millisSince(promotedAt)).as("serves only after the predecessor's lease ran out")
                .isGreaterThanOrEqualTo(LEASE_WAIT_MS);
        assertThat(status(a).getServing()).isTrue();

        assertThat(set(a, 2, "after", "a")).isEqualTo("OK");
        assertThat(get(a, 2, "after")).isEqualTo("a");
        assertThat(get(a, 2, "early")).as("NO_LEASE means not applied").isEqualTo(early.equals("OK") ? "e" : ABSENT);
        assertThat(get(a, 2, "lost")).isEqualTo(ABSENT);
        for (int i = 0; i < 20; i++) assertThat(get(a, 2, "k" + i)).isEqualTo("v" + i);

        // The old primary rejoins: it drops its one unacknowledged record, keeps everything committed.
        assertThat(follow(p, a, 2).getRole()).isEqualTo(MemberRole.REPLICA);
        awaitSameLastSeq(a, p);
        var rejoined = status(p);
        assertThat(rejoined.getEpoch()).isEqualTo(2);
        assertThat(rejoined.getDiscardedRecords()).isEqualTo(1);
        assertThat(scan(p)).isEqualTo(scan(a)).contains("k0=v0", "k19=v19", "after=a").noneMatch(e -> e.startsWith("lost="));
        assertThat(set(p, 2, "k0", "no")).isEqualTo("NOT_PRIMARY");
        assertThat(set(p, 1, "k0", "no")).isEqualTo("STALE_EPOCH");
    }

    // ---- 3. the deposed primary's read lease ---------------------------------------------------

    @Test
    void aDeposedPrimaryStopsServingReadsBeforeItsSuccessorStarts() throws Exception {
        Member p = member("p", 2), a = member("a", 2), b = member("b", 2);
        replicate(1, p, a, b);
        assertThat(set(p, 1, "k", "v")).isEqualTo("OK");
        assertThat(get(p, 1, "k")).isEqualTo("v");

        var fenceA = CompletableFuture.supplyAsync(() -> fence(a, 2), pool);
        var fenceB = CompletableFuture.supplyAsync(() -> fence(b, 2), pool);
        fenceA.join();
        fenceB.join();
        long fenced = System.nanoTime();
        promote(a, 2);
        follow(b, a, 2);

        // Alternate reads on both until the successor serves.
        record Read(long sentNanos, long answeredNanos, String answer) {}
        var onP = new ArrayList<Read>();
        var onA = new ArrayList<Read>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (onA.isEmpty() || !onA.get(onA.size() - 1).answer().equals("v")) {
            assertThat(System.nanoTime() - deadline).as("the new primary serves within 5 s").isNegative();
            long s = System.nanoTime();
            String ans = get(p, 1, "k");
            onP.add(new Read(s, System.nanoTime(), ans));
            s = System.nanoTime();
            ans = get(a, 2, "k");
            onA.add(new Read(s, System.nanoTime(), ans));
            Thread.sleep(5);
        }
        // On P: the value, then NO_LEASE for good.
        int firstRefusal = -1;
        for (int i = 0; i < onP.size(); i++) {
            String ans = onP.get(i).answer();
            if (firstRefusal < 0 && !ans.equals("v")) firstRefusal = i;
            assertThat(ans).as("read %d on the deposed primary", i).isEqualTo(firstRefusal < 0 ? "v" : "NO_LEASE");
            if (ans.equals("v")) {
                assertThat(onP.get(i).sentNanos() - fenced).as("a read served after the lease (fence + lease.ms)")
                        .isLessThan(TimeUnit.MILLISECONDS.toNanos(LEASE_MS));
            }
        }
        assertThat(firstRefusal).as("the deposed primary refused reads before its successor served").isGreaterThanOrEqualTo(0);
        long refusedAt = onP.get(firstRefusal).answeredNanos();
        assertThat(TimeUnit.NANOSECONDS.toMillis(refusedAt - fenced)).isLessThan(LEASE_MS + 300); // margin: the machine is shared
        long servedAt = onA.get(onA.size() - 1).answeredNanos();
        assertThat(refusedAt).isLessThan(servedAt);
        onA.subList(0, onA.size() - 1).forEach(r -> assertThat(r.answer()).isEqualTo("NO_LEASE"));

        var deposed = status(p);
        assertThat(deposed.getRole()).isEqualTo(MemberRole.PRIMARY); // unaware, and harmless
        assertThat(deposed.getEpoch()).isEqualTo(1);
        assertThat(deposed.getLeaseRemainingMs()).isZero();
    }

    // ---- 4. promote and fence: refusals and idempotence ------------------------------------------

    @Test
    void promoteIsRefusedForAFollowerAtItsEpochAndPromoteAndFenceAreIdempotent() throws Exception {
        Member p = member("p", 2), a = member("a", 2);
        replicate(1, p, a);
        assertThat(set(p, 1, "k", "v")).isEqualTo("OK");

        assertThat(refusal(() -> promote(a, 1))).startsWith("STALE_EPOCH");
        assertThat(refusal(() -> promote(a, 0))).startsWith("STALE_EPOCH");
        assertThat(refusal(() -> follow(p, a, 1))).as("the primary of epoch 1 cannot follow at 1").startsWith("STALE_EPOCH");
        assertThat(status(a).getRole()).isEqualTo(MemberRole.REPLICA);

        // A retried Promote neither appends another record nor restarts the lease wait.
        var before = status(p);
        var again = promote(p, 1);
        assertThat(again.getRole()).isEqualTo(MemberRole.PRIMARY);
        assertThat(again.getLastSeq()).isEqualTo(before.getLastSeq());
        assertThat(again.getServing()).isTrue();
        assertThat(set(p, 1, "k", "v2")).isEqualTo("OK");

        var f1 = fence(a, 2);
        var f2 = fence(a, 2);
        var lower = fence(a, 1);
        for (var f : List.of(f1, f2, lower)) {
            assertThat(f.getEpoch()).isEqualTo(2);
            assertThat(f.getRole()).isEqualTo(MemberRole.ROLE_UNKNOWN);
            assertThat(f.getLastSeq()).isEqualTo(f1.getLastSeq());
            assertThat(f.getStorageId()).isEqualTo(f1.getStorageId());
        }

        var p1 = promote(a, 2);
        var p2 = promote(a, 2);
        assertThat(p1.getRole()).isEqualTo(MemberRole.PRIMARY);
        assertThat(p1.getLastSeq()).isEqualTo(f1.getLastSeq() + 1);
        assertThat(p2.getRole()).isEqualTo(MemberRole.PRIMARY);
        assertThat(p2.getLastSeq()).isEqualTo(p1.getLastSeq());
        assertThat(p2.getEpoch()).isEqualTo(2);
        assertThat(refusal(() -> promote(a, 1))).startsWith("STALE_EPOCH");
        // A controller that retries its fence after the promotion does not depose the new primary.
        assertThat(fence(a, 2).getRole()).isEqualTo(MemberRole.PRIMARY);

        // The old primary fenced at 2 steps down at once.
        var deposed = fence(p, 2);
        assertThat(deposed.getRole()).isEqualTo(MemberRole.ROLE_UNKNOWN);
        assertThat(fence(p, 2)).isEqualTo(deposed);
        assertThat(set(p, 1, "k", "x")).isEqualTo("STALE_EPOCH");
        assertThat(set(p, 2, "k", "x")).isEqualTo("NOT_PRIMARY");
    }

    // ---- 5. uncommitted values are invisible ----------------------------------------------------

    @Test
    void aWriteWaitingForItsAcknowledgementIsNotReadable() throws Exception {
        Member p = member("p", 2);
        promote(p, 1);
        var silent = raw(p, "silent", 1);
        awaitServingWithLease(p, 1);
        assertThat(set(p, 1, "k", "old")).isEqualTo("OK");
        assertThat(set(p, 1, "c", "committed")).isEqualTo("OK");

        // From now on it receives records but acknowledges none; it still echoes the lease stamps,
        // so P keeps its read lease and a read of k is held back by the pending write alone.
        silent.ackRecords = false;
        long seq = status(p).getLastSeq() + 1;
        var reads = new CopyOnWriteArrayList<String>();
        var stop = new AtomicBoolean();
        var reader = CompletableFuture.runAsync(() -> {
            while (!stop.get()) {
                reads.add(get(p, 1, "k"));
                reads.add(unaryGet(p, "k"));
            }
        }, pool);
        var write = CompletableFuture.supplyAsync(() -> catchThrowableOfType(StatusRuntimeException.class,
                () -> p.shard().put(PutRequest.newBuilder().setKey(bytes("k")).setValue(bytes("new")).build())), pool);
        Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> silent.received >= seq);
        assertThat(get(p, 1, "c")).as("other keys are served: the lease holds").isEqualTo("committed");
        assertThat(get(p, 1, "k")).isNotEqualTo("new");

        var failed = write.get(5, TimeUnit.SECONDS);
        assertThat(failed).as("the write is not acknowledged").isNotNull();
        assertThat(failed.getStatus().getCode()).isEqualTo(Status.Code.UNKNOWN);
        assertThat(failed.getStatus().getDescription()).startsWith("OUTCOME_UNKNOWN");
        assertThat(get(p, 1, "k")).isNotEqualTo("new");
        stop.set(true);
        reader.get(5, TimeUnit.SECONDS);
        assertThat(reads).isNotEmpty().doesNotContain("new");
        var s = status(p);
        assertThat(s.getLastSeq()).isEqualTo(seq);
        assertThat(s.getCommitSeq()).isEqualTo(seq - 1);

        // Acknowledged late: the outcome was "unknown", and it turns out applied.
        silent.ackUpTo(seq);
        awaitStatus(p, st -> st.getCommitSeq() == seq);
        assertThat(get(p, 1, "k")).isEqualTo("new");
    }

    @Test
    void aPromotedMembersUncommittedTailIsHeldBackUntilTheFirstRecordOfItsEpochCommits() throws Exception {
        // min.in.sync 3: a write needs two acknowledgements, so A can hold a record P never committed.
        Member p = member("p", 3), a = member("a", 3), b = member("b", 3);
        promote(p, 1);
        follow(a, p, 1);
        var other = raw(p, "other", 1);
        awaitServingWithLease(p, 2);
        assertThat(set(p, 1, "c", "committed")).isEqualTo("OK");
        assertThat(set(p, 1, "k", "old")).isEqualTo("OK");
        other.ackRecords = false;
        assertThat(set(p, 1, "k", "new")).isEqualTo("OUTCOME_UNKNOWN");
        awaitSameLastSeq(p, a);
        var behind = status(a);
        assertThat(behind.getCommitSeq()).as("A holds a record beyond the commit point").isLessThan(behind.getLastSeq());

        fence(a, 2);
        other.close();
        var promoted = promote(a, 2);
        assertThat(promoted.getCommitSeq()).isLessThan(promoted.getLastSeq());
        follow(b, a, 2);
        // A second replica that takes everything but acknowledges none of it, only the lease stamps:
        // A has its lease (B and it renew it) but not the two acknowledgements its epoch's record needs.
        var slow = raw(a, "slow", 2, false);
        awaitStatus(a, s -> s.getServing() && s.getLeaseRemainingMs() > 0);
        awaitSameLastSeq(a, b);

        assertThat(get(a, 2, "c")).isEqualTo("committed");
        var held = CompletableFuture.supplyAsync(() -> get(a, 2, "k"), pool);
        Thread.sleep(150);
        assertThat(held).as("the read of a key in the uncommitted tail waits").isNotDone();
        assertThat(status(a).getCommitSeq()).isLessThan(promoted.getLastSeq());

        slow.ackUpTo(status(a).getLastSeq());
        assertThat(held.get(5, TimeUnit.SECONDS)).isEqualTo("new");
        assertThat(get(a, 2, "k")).isEqualTo("new");
        assertThat(status(a).getCommitSeq()).isGreaterThanOrEqualTo(promoted.getLastSeq());
    }

    // ---- 6. a replica counts once -------------------------------------------------------------------

    @Test
    void aReplicaCountsOnceWhateverItsConnectionsDo() throws Exception {
        Member p = member("p", 3); // a write needs two replicas
        promote(p, 1);
        var oldStream = raw(p, "dup", 1);
        awaitStatus(p, s -> s.getServing() && s.getInSyncReplicas() == 1);
        // It reconnects while its first stream is still open from its side.
        var newStream = raw(p, "dup", 1);
        Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> newStream.received >= 1);
        awaitStatus(p, s -> s.getReplicasCount() == 1);
        var s = status(p);
        assertThat(s.getInSyncReplicas()).isEqualTo(1);
        assertThat(s.getReplicasList()).extracting(r -> r.getNodeId()).containsExactly("dup");
        assertThat(oldStream.ended.get(5, TimeUnit.SECONDS).getCode()).as("the old session is replaced")
                .isNotEqualTo(Status.Code.OK);
        assertThat(set(p, 1, "k", "v")).isEqualTo("NOT_ENOUGH_REPLICAS");

        // With a second replica in sync that stops acknowledging, the write is accepted, and dup's
        // acknowledgement alone (however many streams it had) does not commit it.
        var other = raw(p, "other", 1);
        awaitStatus(p, st -> st.getInSyncReplicas() == 2);
        other.ackRecords = false;
        long seq = status(p).getLastSeq() + 1;
        assertThat(set(p, 1, "k", "v")).isEqualTo("OUTCOME_UNKNOWN");
        assertThat(newStream.acked).isGreaterThanOrEqualTo(seq);
        assertThat(status(p).getCommitSeq()).isLessThan(seq);
    }

    // A replica that applies every record a few milliseconds after it arrives, under writes that never stop,
    // never acknowledges the log's very end: newer records are always on the way. It is still in sync (it had
    // all the primary had 40 ms ago), and the writes that need it must not be refused. Before, the primary
    // counted a replica caught up only when an acknowledgement reached the end, and refused writes with
    // NOT_ENOUGH_REPLICAS lag.max.ms after the load began (found by `REPLICAS=3 make bench-memory`).
    @Test
    void aReplicaAFewMillisecondsBehindASteadyWriteLoadStaysInSync() throws Exception {
        Member p = member("p", 2, "--replication.lag.max.ms=300");
        promote(p, 1);
        var slow = raw(p, "slow", 1, false);
        // Acknowledges, every 5 ms, what it had received 40 ms before.
        var seen = new java.util.concurrent.ConcurrentLinkedDeque<long[]>();
        var acker = Executors.newSingleThreadScheduledExecutor();
        acker.scheduleAtFixedRate(() -> {
            long now = System.nanoTime();
            seen.addLast(new long[] {now, slow.received});
            long[] e;
            long upTo = -1;
            while ((e = seen.peekFirst()) != null && now - e[0] >= TimeUnit.MILLISECONDS.toNanos(40)) {
                upTo = seen.pollFirst()[1];
            }
            if (upTo > slow.acked) slow.ackUpTo(upTo);
        }, 0, 5, TimeUnit.MILLISECONDS);
        awaitStatus(p, s -> s.getServing() && s.getInSyncReplicas() == 1);
        var outcomes = new java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.AtomicInteger>();
        var writers = Executors.newFixedThreadPool(16);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3); // ten times lag.max.ms
        try {
            var done = new ArrayList<java.util.concurrent.Future<?>>();
            for (int w = 0; w < 16; w++) {
                int writer = w;
                done.add(writers.submit(() -> {
                    for (int i = 0; System.nanoTime() < until; i++) {
                        outcomes.computeIfAbsent(set(p, 1, "w" + writer + "-" + i, "v"),
                                k -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet();
                    }
                    return null;
                }));
            }
            for (var f : done) f.get(30, TimeUnit.SECONDS);
        } finally {
            writers.shutdownNow();
            acker.shutdownNow();
        }
        // "OK" is what set() returns for an applied write; anything else is an error code
        assertThat(outcomes.keySet()).as("outcomes %s", outcomes).containsExactly("OK");
        assertThat(outcomes.get("OK").get()).as("writes applied in 3 s").isGreaterThan(100);
        assertThat(slow.acked).as("the replica stayed behind the end").isLessThan(status(p).getLastSeq() + 1);
    }

    // ---- 7. storage identity ----------------------------------------------------------------------

    @Test
    void aWipedReplicaComesBackAsANewStorageNotCaughtUpUntilItHoldsThePrimarysData() throws Exception {
        Member p = member("p", 2, "--replication.log.retain=50"), a = member("a", 2), b = member("b", 2);
        replicate(1, p, a, b);
        for (int i = 0; i < 100; i++) assertThat(set(p, 1, "k" + i, "v" + i)).isEqualTo("OK");
        awaitSameLastSeq(p, a, b);
        var original = status(a);
        assertThat(original.getCaughtUp()).isTrue();

        a.stop();
        for (int i = 100; i < 300; i++) assertThat(set(p, 1, "k" + i, "v" + i)).isEqualTo("OK");
        Thread.sleep(300); // the primary trims its log to 50 records: A will need a snapshot
        deleteRecursively(a.data);
        a.start();
        var fresh = status(a);
        assertThat(fresh.getStorageId()).isNotEmpty().isNotEqualTo(original.getStorageId())
                .isNotIn(status(p).getStorageId(), status(b).getStorageId());
        assertThat(fresh.getCaughtUp()).isFalse();
        assertThat(fresh.getLastSeq()).isZero();

        long committed = status(p).getCommitSeq();
        follow(a, p, 1);
        var seen = new ArrayList<StatusResponse>();
        Awaitility.await().atMost(20, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(5)).until(() -> {
            var s = status(a);
            seen.add(s);
            return s.getCaughtUp();
        });
        for (var s : seen) {
            if (s.getCaughtUp()) assertThat(s.getLastSeq()).as("caught up only with everything committed").isGreaterThanOrEqualTo(committed);
            assertThat(s.getStorageId()).isEqualTo(fresh.getStorageId());
        }
        awaitSameLastSeq(p, a);
        assertThat(scan(a)).hasSize(300).isEqualTo(scan(p));
        awaitStatus(p, s -> s.getInSyncReplicas() == 2);
    }

    // ---- 8. epochs on requests, outcome classes -----------------------------------------------------

    @Test
    void requestsWithoutTheShardsEpochAreRefusedAndAHigherEpochDeposesThePrimary() throws Exception {
        Member p = member("p", 2), a = member("a", 2);
        replicate(3, p, a);
        assertThat(set(p, 0, "e", "zero")).isEqualTo("STALE_EPOCH");
        assertThat(set(p, 2, "e", "two")).isEqualTo("STALE_EPOCH");
        assertThat(get(p, 0, "e")).isEqualTo("STALE_EPOCH");
        assertThat(error(execute(p, 0, true, put("e", "zero")))).as("a replica read may not write").isEqualTo("STALE_EPOCH");
        assertThat(set(p, 3, "e", "three")).isEqualTo("OK");
        assertThat(get(p, 3, "e")).as("the refused writes were not applied").isEqualTo("three");
        // Read-only replica reads need no epoch.
        Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> replicaRead(a, "e").equals("three"));

        // Unary Shard RPCs carry no epoch: checked by role and lease only.
        assertThat(unaryGet(p, "e")).isEqualTo("three");
        var onReplica = catchThrowableOfType(StatusRuntimeException.class, () -> a.shard().get(
                GetRequest.newBuilder().setKey(bytes("e")).build()));
        assertThat(onReplica.getStatus().getCode()).isEqualTo(ErrorCode.NOT_PRIMARY.grpc()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(onReplica.getStatus().getDescription()).startsWith("NOT_PRIMARY");

        // A batch from a newer epoch: the primary steps down at once and serves nothing more.
        assertThat(set(p, 4, "e", "four")).isEqualTo("NOT_PRIMARY");
        var s = status(p);
        assertThat(s.getEpoch()).isEqualTo(4);
        assertThat(s.getRole()).isEqualTo(MemberRole.ROLE_UNKNOWN);
        assertThat(set(p, 3, "e", "late")).isEqualTo("STALE_EPOCH");
        assertThat(replicaRead(p, "e")).isEqualTo("three");
    }

    @Test
    void outcomeClassesMapToTheDocumentedGrpcHttpAndRespCodes() {
        var unknownGrpc = Set.of(Status.Code.UNKNOWN, Status.Code.DEADLINE_EXCEEDED, Status.Code.INTERNAL);
        for (ErrorCode c : ErrorCode.values()) {
            boolean unknown = c.outcome() == ErrorCode.Outcome.UNKNOWN;
            assertThat(unknownGrpc.contains(c.grpc())).as("gRPC %s for %s", c.grpc(), c).isEqualTo(unknown);
            assertThat(c.http() == 500 || c.http() == 504).as("HTTP %s for %s", c.http(), c).isEqualTo(unknown);
            assertThat(c.respPrefix().equals("UNKNOWN")).as("RESP %s for %s", c.respPrefix(), c).isEqualTo(unknown);
            if (c.retryable()) assertThat(c.outcome()).as("only what was not applied is retried").isEqualTo(ErrorCode.Outcome.NOT_APPLIED);
        }
        for (var c : List.of(ErrorCode.NOT_PRIMARY, ErrorCode.STALE_EPOCH, ErrorCode.NO_LEASE, ErrorCode.NOT_ENOUGH_REPLICAS)) {
            assertThat(c.outcome()).isEqualTo(ErrorCode.Outcome.NOT_APPLIED);
            assertThat(c.retryable()).isTrue();
        }
        assertThat(ErrorCode.OUTCOME_UNKNOWN.outcome()).isEqualTo(ErrorCode.Outcome.UNKNOWN);
        assertThat(ErrorCode.OUTCOME_UNKNOWN.grpc()).isEqualTo(Status.Code.UNKNOWN);
    }

    // ---- regressions: each of these failed before its fix ------------------------------------------

    /**
     * Invariants 1 and 5: a DEL of an absent key, a SET NX of a present key and a SET XX of an absent
     * key write nothing, so no acknowledgement proves them: they are reads and need the lease, or a
     * deposed primary would answer them from stale data while its successor holds the opposite.
     */
    @Test
    void aDeposedPrimaryDoesNotAnswerConditionalWritesFromStaleData() throws Exception {
        Member p = member("p", 2), a = member("a", 2), b = member("b", 2);
        replicate(1, p, a, b);
        assertThat(set(p, 1, "gone", "g")).isEqualTo("OK");
        awaitSameLastSeq(p, a, b);
        fence(a, 2);
        fence(b, 2);
        promote(a, 2);
        follow(b, a, 2);
        awaitServingWithLease(a, 1);
        assertThat(set(a, 2, "fresh", "f")).isEqualTo("OK");
        assertThat(delete(a, 2, "gone")).isEqualTo("existed");
        awaitStatus(p, s -> s.getLeaseRemainingMs() == 0);
        assertThat(get(p, 1, "fresh")).as("plain reads are refused once the lease ran out").isEqualTo("NO_LEASE");

        var soft = new SoftAssertions();
        soft.assertThat(delete(p, 1, "fresh")).as("DEL of a key the new primary has").isIn(ERROR_CODES);
        soft.assertThat(setIf(p, 1, "gone", "x", PutCondition.IF_ABSENT)).as("SET NX of a key the new primary deleted")
                .isIn(ERROR_CODES);
        soft.assertThat(setIf(p, 1, "fresh", "x", PutCondition.IF_PRESENT)).as("SET XX of a key the new primary has")
                .isIn(ERROR_CODES);
        soft.assertAll();
    }

    /**
     * Invariants 1 and 2: the Shard service's Scan is a read. It must not show a write that is still
     * waiting for its acknowledgement (which may yet be lost), and a deposed primary must not serve
     * it from stale data after its lease ran out; a range migration that copies with Scan relies on both.
     */
    @Test
    void scanShowsOnlyCommittedValuesAndOnlyUnderTheLease() throws Exception {
        Member p = member("p", 2);
        promote(p, 1);
        var silent = raw(p, "silent", 1);
        awaitServingWithLease(p, 1);
        assertThat(set(p, 1, "k", "old")).isEqualTo("OK");
        silent.ackRecords = false;
        long seq = status(p).getLastSeq() + 1;
        var write = CompletableFuture.supplyAsync(() -> set(p, 1, "k", "new"), pool);
        Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> silent.received >= seq);
        assertThat(get(p, 1, "k")).isNotEqualTo("new");
        var soft = new SoftAssertions();
        soft.assertThat(scanOrError(p)).as("Scan while k=new waits for its acknowledgement").doesNotContain("k=new");
        assertThat(write.get(5, TimeUnit.SECONDS)).isEqualTo("OUTCOME_UNKNOWN");

        silent.ackStamps = false; // now cut off entirely: P's lease runs out
        awaitStatus(p, s -> s.getLeaseRemainingMs() == 0);
        assertThat(get(p, 1, "k")).isEqualTo("NO_LEASE");
        soft.assertThat(scanOrError(p)).as("Scan on a primary whose lease ran out").containsExactly("NO_LEASE");
        soft.assertAll();
    }

    /**
     * Liveness (invariant 4): Promote(E+1) of the live primary of E closes its replicas' sessions of
     * epoch E, and a replica that learns of E+1 from a heartbeat stops following and says so (role
     * unknown), so that Follow(same primary, E+1) reconnects it instead of being taken as a repeat.
     */
    @Test
    void followAfterThePrimaryWasPromotedAgainReconnectsTheReplica() throws Exception {
        Member p = member("p", 2), b = member("b", 2);
        replicate(1, p, b);
        promote(p, 2);
        Thread.sleep(300); // a few heartbeats of epoch 2
        follow(b, p, 2);
        Awaitility.await("b follows p at epoch 2 and p can write").atMost(3, TimeUnit.SECONDS)
                .pollInterval(Duration.ofMillis(20))
                .until(() -> status(b).getConnected() && set(p, 2, "x", "y").equals("OK"));
    }

    // ---- repairing a divergent tail of large values ----------------------------------------------

    @Test
    void aRejoiningPrimaryRepairsADivergentTailOfLargeValuesOverSeveralFetches() throws Exception {
        Member p = member("p", 2), a = member("a", 2), b = member("b", 2);
        replicate(1, p, a, b);
        var cutOff = raw(p, "cut-off", 1); // keeps P in sync mode after the fence, as in the promotion test
        awaitStatus(p, s -> s.getInSyncReplicas() == 3);
        int n = 9, size = 1 << 20; // 9 MiB to repair: FetchKeys answers at most 4 MiB, 3 values here
        var committed = ExecuteRequest.newBuilder().setEpoch(1);
        var diverged = ExecuteRequest.newBuilder().setEpoch(1);
        for (int i = 0; i < n; i++) {
            committed.addOps(put("large" + i, String.valueOf((char) ('a' + i)).repeat(size)));
            diverged.addOps(put("large" + i, "x".repeat(size)));
        }
        var ok = p.shard().withDeadlineAfter(30, TimeUnit.SECONDS).execute(committed.build());
        assertThat(ok.getResultsList()).allSatisfy(r -> assertThat(r.hasError()).isFalse());
        awaitSameLastSeq(p, a, b);

        cutOff.ackRecords = false;
        cutOff.ackStamps = false;
        fence(a, 2);
        fence(b, 2);
        var lost = p.shard().withDeadlineAfter(30, TimeUnit.SECONDS).execute(diverged.build());
        assertThat(lost.getError().getCode()).isEqualTo("OUTCOME_UNKNOWN");
        promote(a, 2);
        follow(b, a, 2);

        // The new primary answers a prefix of the keys asked: as many 1 MiB values as fit in 4 MiB.
        var ask = io.limedb.api.v1.FetchKeysRequest.newBuilder().setEpoch(2);
        for (int i = 0; i < n; i++) ask.addKeys(ByteString.copyFrom(io.limedb.node.storage.StorageKeys.encode(bytes("large" + i).toByteArray())));
        var prefix = a.replication().fetchKeys(ask.build());
        assertThat(prefix.getEntriesCount()).isEqualTo(3);
        for (int i = 0; i < 3; i++) assertThat(prefix.getEntries(i).getKey()).isEqualTo(ask.getKeys(i));
        assertThat(prefix.getEntries(0).getValue().size()).isGreaterThan(size);

        // P rejoins: it drops its tail and asks again for the keys left over until it has all 9 (3 calls).
        assertThat(follow(p, a, 2).getRole()).isEqualTo(MemberRole.REPLICA);
        awaitSameLastSeq(a, p);
        assertThat(status(p).getDiscardedRecords()).isPositive();
        for (int i = 0; i < n; i++) {
            assertThat(replicaRead(p, "large" + i)).as("large" + i).isEqualTo(String.valueOf((char) ('a' + i)).repeat(size));
        }
    }

    // ---- the cluster under test -------------------------------------------------------------------

    /** A shard node in this JVM, with a client channel to it. */
    private final class Member {
        final String id;
        final Path data;
        final List<String> args;
        int port;
        ShardNode node;
        ManagedChannel channel;

        Member(String id, int minInSync, String... extra) {
            this.id = id;
            this.data = dir.resolve(id);
            this.args = new ArrayList<>(List.of("--node.id=" + id, "--bind.host=127.0.0.1", "--data.dir=" + data,
                    "--replication.mode=sync", "--replication.min.in.sync=" + minInSync,
                    "--replication.ack.timeout.ms=" + ACK_TIMEOUT_MS, "--replication.lease.ms=" + LEASE_MS,
                    "--rocksdb.block.cache.mb=8", "--rocksdb.write.buffer.mb=8"));
            this.args.addAll(List.of(extra));
        }

        /** Starts on fresh ports (a restarted replica is known by its id, not its address). */
        void start() throws Exception {
            port = freePort();
            var all = new ArrayList<>(args);
            all.add("--grpc.port=" + port);
            all.add("--http.port=" + freePort());
            node = new ShardNode(NodeConfig.resolve(all, Map.of(), k -> null));
            channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        }

        void stop() {
            if (node == null) return;
            channel.shutdownNow();
            try {
                node.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            node = null;
        }

        String address() {
            return "127.0.0.1:" + port;
        }

        ReplicationGrpc.ReplicationBlockingStub replication() {
            return ReplicationGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        }

        ShardGrpc.ShardBlockingStub shard() {
            return ShardGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        }
    }

    private Member member(String id, int minInSync, String... extra) throws Exception {
        var m = new Member(id, minInSync, extra);
        members.add(m);
        m.start();
        return m;
    }

    /**
     * A replica that speaks the Replicate stream itself: it starts from an empty log, receives what
     * the primary sends, and acknowledges records and echoes lease stamps only while the test lets it.
     */
    private static final class RawReplica implements AutoCloseable {
        private final ManagedChannel channel;
        private final ClientCallStreamObserver<ReplicaMessage> stream;
        final CompletableFuture<Status> ended = new CompletableFuture<>();
        volatile boolean ackRecords;
        volatile boolean ackStamps = true;
        volatile long received;
        volatile long acked;
        private volatile long stamp;

        RawReplica(Member primary, String nodeId, long epoch, boolean ackRecords) {
            this.ackRecords = ackRecords;
            // Accepts what a replica must (a batch of records plus the largest one), like the real follower.
            channel = NettyChannelBuilder.forAddress("127.0.0.1", primary.port).usePlaintext()
                    .maxInboundMessageSize(io.limedb.node.config.Limits.defaults().maxReplicationMessageBytes()).build();
            var s = new AtomicReference<ClientCallStreamObserver<ReplicaMessage>>();
            ReplicationGrpc.newStub(channel).replicate(new ClientResponseObserver<ReplicaMessage, PrimaryMessage>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<ReplicaMessage> requests) {
                    s.set(requests);
                }

                @Override
                public void onNext(PrimaryMessage m) {
                    receive(m);
                }

                @Override
                public void onError(Throwable t) {
                    ended.complete(Status.fromThrowable(t));
                }

                @Override
                public void onCompleted() {
                    ended.complete(Status.OK);
                }
            });
            stream = s.get();
            send(ReplicaMessage.newBuilder().setHello(ReplicaHello.newBuilder().setNodeId(nodeId).setEpoch(epoch)
                    .setStorageId("raw-" + nodeId)).build());
        }

        private void receive(PrimaryMessage m) {
            switch (m.getMsgCase()) {
                case RECORDS -> {
                    var batch = m.getRecords();
                    if (batch.getRecordsCount() > 0) received = batch.getRecords(batch.getRecordsCount() - 1).getSeq();
                    stamp = batch.getLeaseStamp();
                    if (ackRecords) acked = received;
                }
                case HEARTBEAT -> stamp = m.getHeartbeat().getLeaseStamp();
                default -> { }
            }
            if (ackRecords || ackStamps) sendAck();
        }

        /** Acknowledges every record up to seq (and echoes the newest stamp). */
        void ackUpTo(long seq) {
            acked = Math.max(acked, seq);
            sendAck();
        }

        private void sendAck() {
            send(ReplicaMessage.newBuilder().setAck(ReplicaAck.newBuilder().setSeq(acked).setLeaseStamp(stamp)).build());
        }

        private synchronized void send(ReplicaMessage m) {
            if (ended.isDone()) return;
            try {
                stream.onNext(m);
            } catch (RuntimeException ignored) {
                // the stream is gone
            }
        }

        @Override
        public void close() {
            try {
                stream.cancel("test done", null);
            } catch (RuntimeException ignored) {
                // already closed
            }
            channel.shutdownNow();
        }
    }

    private RawReplica raw(Member primary, String nodeId, long epoch) {
        return raw(primary, nodeId, epoch, true);
    }

    private RawReplica raw(Member primary, String nodeId, long epoch, boolean ackRecords) {
        var r = new RawReplica(primary, nodeId, epoch, ackRecords);
        raws.add(r);
        return r;
    }

    /** Promotes the primary at epoch, points the replicas at it, and waits until it serves with all of them in sync. */
    private void replicate(long epoch, Member primary, Member... replicas) {
        promote(primary, epoch);
        for (Member r : replicas) follow(r, primary, epoch);
        awaitServingWithLease(primary, replicas.length);
    }

    private void awaitServingWithLease(Member primary, int inSync) {
        awaitStatus(primary, s -> s.getServing() && s.getInSyncReplicas() == inSync && s.getLeaseRemainingMs() > 0);
    }

    private void awaitStatus(Member m, java.util.function.Predicate<StatusResponse> condition) {
        await().until(() -> condition.test(status(m)));
    }

    /** Waits until every other member has applied exactly what the first one has. */
    private void awaitSameLastSeq(Member reference, Member... others) {
        await().until(() -> {
            long last = status(reference).getLastSeq();
            for (Member o : others) if (status(o).getLastSeq() != last) return false;
            return true;
        });
    }

    private static ConditionFactory await() {
        return Awaitility.await().atMost(10, TimeUnit.SECONDS).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10));
    }

    // ---- the Replication service --------------------------------------------------------------------

    private static StatusResponse status(Member m) {
        return m.replication().status(StatusRequest.getDefaultInstance());
    }

    private static StatusResponse promote(Member m, long epoch) {
        return m.replication().promote(PromoteRequest.newBuilder().setEpoch(epoch).build()).getStatus();
    }

    private static StatusResponse follow(Member m, Member primary, long epoch) {
        return m.replication().follow(FollowRequest.newBuilder().setPrimaryAddress(primary.address()).setEpoch(epoch).build())
                .getStatus();
    }

    private static StatusResponse fence(Member m, long epoch) {
        return m.replication().fence(FenceRequest.newBuilder().setEpoch(epoch).build()).getStatus();
    }

    /** The description of the gRPC error a call fails with (it starts with the error code). */
    private static String refusal(Supplier<?> call) {
        var e = catchThrowableOfType(StatusRuntimeException.class, call::get);
        assertThat(e).as("the call is refused").isNotNull();
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        return e.getStatus().getDescription();
    }

    // ---- the Shard service ----------------------------------------------------------------------------

    private static ExecuteResponse execute(Member m, long epoch, boolean replicaRead, Op... ops) {
        var req = ExecuteRequest.newBuilder().setEpoch(epoch).setReplicaRead(replicaRead);
        for (Op op : ops) req.addOps(op);
        return m.shard().execute(req.build());
    }

    /** "OK", or the error code of the refused batch or operation. */
    private static String set(Member m, long epoch, String key, String value) {
        String e = error(execute(m, epoch, false, put(key, value)));
        return e.isEmpty() ? "OK" : e;
    }

    /** The value, {@link #ABSENT}, or the error code. */
    private static String get(Member m, long epoch, String key) {
        return answer(execute(m, epoch, false, get(key)));
    }

    /** "existed", "absent", or the error code. */
    private static String delete(Member m, long epoch, String key) {
        var r = execute(m, epoch, false, Op.newBuilder().setDelete(DeleteRequest.newBuilder().setKey(bytes(key))).build());
        String e = error(r);
        if (!e.isEmpty()) return e;
        return r.getResults(0).getDelete().getExisted() ? "existed" : "absent";
    }

    /** "applied", "not applied" (the condition did not hold), or the error code. */
    private static String setIf(Member m, long epoch, String key, String value, PutCondition condition) {
        var r = execute(m, epoch, false, Op.newBuilder().setPut(PutRequest.newBuilder().setKey(bytes(key))
                .setValue(bytes(value)).setCondition(condition)).build());
        String e = error(r);
        if (!e.isEmpty()) return e;
        return r.getResults(0).getPut().getApplied() ? "applied" : "not applied";
    }

    private static String replicaRead(Member m, String key) {
        return answer(execute(m, 0, true, get(key)));
    }

    private static String unaryGet(Member m, String key) {
        try {
            var r = m.shard().get(GetRequest.newBuilder().setKey(bytes(key)).build());
            return r.getFound() ? r.getValue().toStringUtf8() : ABSENT;
        } catch (StatusRuntimeException e) {
            String d = String.valueOf(e.getStatus().getDescription());
            return d.contains(":") ? d.substring(0, d.indexOf(':')) : d;
        }
    }

    private static String answer(ExecuteResponse r) {
        String e = error(r);
        if (!e.isEmpty()) return e;
        var g = r.getResults(0).getGet();
        return g.getFound() ? g.getValue().toStringUtf8() : ABSENT;
    }

    private static String error(ExecuteResponse r) {
        if (r.hasError()) return r.getError().getCode();
        if (r.getResults(0).hasError()) return r.getResults(0).getError().getCode();
        return "";
    }

    private static Op put(String key, String value) {
        return Op.newBuilder().setPut(PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes(value))).build();
    }

    private static Op get(String key) {
        return Op.newBuilder().setGet(GetRequest.newBuilder().setKey(bytes(key))).build();
    }

    /** Every live entry of the member's data, as sorted "key=value" strings (a replica scan: any role). */
    private static List<String> scan(Member m) {
        return scan(m, true);
    }

    private static List<String> scan(Member m, boolean replicaRead) {
        var out = new ArrayList<String>();
        m.shard().scan(ScanRequest.newBuilder().setReplicaRead(replicaRead).build()).forEachRemaining(chunk -> chunk.getEntriesList()
                .forEach(kv -> out.add(kv.getKey().toStringUtf8() + "=" + kv.getValue().toStringUtf8())));
        out.sort(Comparator.naturalOrder());
        return out;
    }

    /** A primary scan (committed values, under the lease), or the error code that refused it. */
    private static List<String> scanOrError(Member m) {
        try {
            return scan(m, false);
        } catch (StatusRuntimeException e) {
            String d = String.valueOf(e.getStatus().getDescription());
            return List.of(d.contains(":") ? d.substring(0, d.indexOf(':')) : d);
        }
    }

    private static ByteString bytes(String s) {
        return ByteString.copyFromUtf8(s);
    }

    private static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }

    private static int freePort() {
        return Ports.next();
    }

    private static void deleteRecursively(Path path) throws IOException {
        try (var files = Files.walk(path)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(f);
        }
    }
}
