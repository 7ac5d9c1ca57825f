package io.limedb.node.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.limedb.api.v1.ReplicationGrpc;
import io.limedb.api.v1.SnapshotChunk;
import io.limedb.api.v1.SnapshotRequest;
import io.limedb.node.config.Limits;
import io.limedb.node.net.GrpcServers;
import io.limedb.node.net.PacedStream;
import io.limedb.node.net.Transport;
import io.limedb.node.storage.KeyValueStore.Mutation;
import io.limedb.node.storage.RocksDbStore;
import io.netty.channel.EventLoopGroup;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The primary's snapshot stream, over real gRPC on 127.0.0.1: chunks bounded by bytes, paced by the reader. */
class SnapshotStreamTest {
    private static final int MiB = 1 << 20;
    private static final int ENTRIES = 24;

    @TempDir
    Path dir;
    private RocksDbStore store;
    private ShardReplication replication;
    private EventLoopGroup loops;
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void primaryWithData() throws Exception {
        store = RocksDbStore.open(dir, RocksDbStore.Settings.defaults());
        replication = new ShardReplication("m-0", store, new ReplicationSettings(io.limedb.core.topology.ReplicationMode.ASYNC, 1, 5000,
                2000, 1000, 1000, Limits.defaults().maxReplicationMessageBytes()));
        replication.promote(1);
        for (int i = 0; i < ENTRIES; i++) replication.write(List.of(Mutation.put(key(i), value(i))));
        Transport.select(Transport.Mode.NIO);
        loops = Transport.loops(1);
        server = GrpcServers.start("127.0.0.1", 0, loops, 64 * MiB, new ReplicationGrpcService(replication));
        // The receiver takes one chunk of up to REPLICATION_CHUNK_BYTES plus one entry, no more.
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext()
                .maxInboundMessageSize(Limits.REPLICATION_CHUNK_BYTES + MiB + 4096).build();
    }

    @AfterEach
    void down() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        replication.close();
        store.close();
    }

    private static byte[] key(int i) {
        return ("key-" + (100 + i)).getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] value(int i) {
        byte[] v = new byte[MiB];
        Arrays.fill(v, (byte) i);
        return v;
    }

    @Test
    void chunksAreBoundedByBytesAndTogetherHoldEveryEntry() {
        var it = ReplicationGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                .snapshot(SnapshotRequest.newBuilder().setEpoch(1).build());
        int entries = 0, chunks = 0;
        SnapshotChunk last = null;
        while (it.hasNext()) {
            var c = it.next();
            chunks++;
            assertThat(c.getSerializedSize()).isLessThanOrEqualTo(Limits.REPLICATION_CHUNK_BYTES + MiB + 4096);
            for (var e : c.getEntriesList()) {
                assertThat(e.getKey().toByteArray()).isEqualTo(key(entries));
                assertThat(e.getValue().toByteArray()).isEqualTo(value(entries));
                entries++;
            }
            last = c;
        }
        assertThat(entries).isEqualTo(ENTRIES);
        assertThat(chunks).isGreaterThanOrEqualTo(ENTRIES / 5); // 4 MiB of 1 MiB entries per chunk
        assertThat(last.getLast()).isTrue();
        assertThat(last.getSeq()).isEqualTo(replication.log().lastSeq());
    }

    @Test
    void theSnapshotWaitsForASlowReaderAndStopsWhenItCancels() throws Exception {
        var first = new CountDownLatch(1);
        var call = new ClientCallStreamObserver<?>[1];
        ReplicationGrpc.newStub(channel).snapshot(SnapshotRequest.newBuilder().setEpoch(1).build(),
                new ClientResponseObserver<SnapshotRequest, SnapshotChunk>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<SnapshotRequest> s) {
                        call[0] = s;
                        s.disableAutoRequestWithInitial(1); // takes one chunk, then reads nothing more
                    }

                    @Override
                    public void onNext(SnapshotChunk c) {
                        first.countDown();
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
        assertThat(first.await(10, TimeUnit.SECONDS)).isTrue();
        // The sender waits for the reader instead of reading the whole store into buffers.
        Awaitility.await().atMost(5, TimeUnit.SECONDS).until(SnapshotStreamTest::senderIsWaiting);
        Thread.sleep(300);
        assertThat(senderIsWaiting()).isTrue();
        call[0].cancel("reader gave up", null);
        Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> !senderIsWaiting());
    }

    /** A snapshot sender thread parked in PacedStream.send. */
    private static boolean senderIsWaiting() {
        for (var e : Thread.getAllStackTraces().entrySet()) {
            if (!e.getKey().getName().startsWith("replication-admin")) continue;
            for (var frame : e.getValue()) {
                if (frame.getClassName().equals(PacedStream.class.getName()) && frame.getMethodName().equals("send")) return true;
            }
        }
        return false;
    }
}
