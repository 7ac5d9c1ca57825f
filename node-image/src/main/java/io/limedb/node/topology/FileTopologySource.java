package io.limedb.node.topology;

import io.limedb.core.topology.TopologyJson;
import io.limedb.core.topology.Topology;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Topology from a JSON file, re-read when its content changes (polling, so it also follows a
 * Kubernetes ConfigMap volume, which swaps a symlink). An invalid file is reported and ignored; a
 * topology with a lower version than the current one is ignored.
 */
public final class FileTopologySource implements TopologySource {
    private static final Logger LOG = LoggerFactory.getLogger(FileTopologySource.class);

    private final Path file;
    private final int defaultVnodes;
    private final ScheduledExecutorService poller;
    private final List<Consumer<Topology>> listeners = new CopyOnWriteArrayList<>();
    private volatile Topology current;
    private volatile String lastError;
    private byte[] lastContent;

    public FileTopologySource(Path file, int defaultVnodes, long pollMs) {
        this.file = file;
        this.defaultVnodes = defaultVnodes;
        this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
            var t = new Thread(r, "topology-poller");
            t.setDaemon(true);
            return t;
        });
        poll();
        poller.scheduleWithFixedDelay(this::poll, pollMs, pollMs, TimeUnit.MILLISECONDS);
    }

    private final java.util.concurrent.atomic.AtomicReference<java.util.concurrent.CompletableFuture<Void>> refreshing =
            new java.util.concurrent.atomic.AtomicReference<>();

    /**
     * Re-reads the file soon, on the poller thread (never on the caller's event loop); callers that
     * ask while a re-read is queued share it. Completes once the file was read.
     */
    public java.util.concurrent.CompletableFuture<Void> refresh() {
        var mine = new java.util.concurrent.CompletableFuture<Void>();
        var queued = refreshing.compareAndExchange(null, mine);
        if (queued != null) return queued;
        poller.execute(() -> {
            refreshing.set(null);
            try {
                poll();
            } finally {
                mine.complete(null);
            }
        });
        return mine;
    }

    private synchronized void poll() {
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            report("topology file " + file + " does not exist");
            return;
        } catch (IOException e) {
            report("cannot read topology file " + file + ": " + e.getMessage());
            return;
        }
        if (Arrays.equals(content, lastContent)) return;
        lastContent = content;
        Topology next;
        try {
            next = TopologyJson.parse(content, defaultVnodes);
        } catch (IllegalArgumentException e) {
            report("ignoring invalid topology file " + file + ": " + e.getMessage());
            return;
        }
        Topology prev = current;
        if (prev != null && next.version() < prev.version()) {
            report("ignoring topology version " + next.version() + " older than current " + prev.version());
            return;
        }
        lastError = null;
        if (next.equals(prev)) return; // only the controller's bookkeeping changed (revision, failover in progress)
        current = next;
        LOG.info("topology version {} loaded from {}: {} shards, {} vnodes each", next.version(), file,
                next.shards().size(), next.vnodes());
        listeners.forEach(l -> l.accept(next));
    }

    private void report(String message) {
        if (!message.equals(lastError)) LOG.error(message);
        lastError = message;
    }

    /** The last problem with the file, or null when the newest content was loaded. */
    public String lastError() {
        return lastError;
    }

    @Override
    public Optional<Topology> current() {
        return Optional.ofNullable(current);
    }

    @Override
    public void subscribe(Consumer<Topology> listener) {
        listeners.add(listener);
        Topology t = current;
        if (t != null) listener.accept(t);
    }

    @Override
    public String describe() {
        return "file " + file.toAbsolutePath();
    }

    @Override
    public void close() {
        poller.shutdownNow();
    }
}
