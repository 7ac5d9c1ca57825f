package io.limedb.node.topology;

import io.limedb.core.topology.Topology;
import io.limedb.core.topology.TopologyJson;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every topology source shares: a poller thread that reads the topology's bytes, and the rules
 * for them. Invalid content is reported once and ignored, a lower version than the current one is
 * ignored, and listeners hear of every newer topology (a change of the writer's bookkeeping alone is
 * not one).
 */
abstract class PolledTopologySource implements TopologySource {
    protected final Logger log = LoggerFactory.getLogger(getClass());
    private final int defaultVnodes;
    private final ScheduledExecutorService poller;
    private final List<Consumer<Topology>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicReference<CompletableFuture<Void>> refreshing = new AtomicReference<>();
    private volatile Topology current;
    private volatile String lastError;
    private byte[] lastContent;
    private String lastContentError;

    PolledTopologySource(int defaultVnodes) {
        this.defaultVnodes = defaultVnodes;
        this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
            var t = new Thread(r, "topology-poller");
            t.setDaemon(true);
            return t;
        });
    }

    /** Reads the topology once, handing what it read to {@link #accept}; runs on the poller thread. */
    protected abstract void poll();

    /** Polls every periodMs from now on (subclasses call it once they are fully built). */
    protected final void pollEvery(long periodMs) {
        poller.scheduleWithFixedDelay(this::poll, periodMs, periodMs, TimeUnit.MILLISECONDS);
    }

    /**
     * Polls soon, on the poller thread (never on the caller's event loop); callers that ask while a
     * poll is queued share it. Completes once it was read.
     */
    @Override
    public CompletableFuture<Void> refresh() {
        var mine = new CompletableFuture<Void>();
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

    /** Applies the rules to content read from the source. */
    protected final synchronized void accept(byte[] content) {
        if (Arrays.equals(content, lastContent)) {
            lastError = lastContentError;
            return;
        }
        lastContent = content;
        lastContentError = null;
        Topology next;
        try {
            next = TopologyJson.parse(content, defaultVnodes);
        } catch (IllegalArgumentException e) {
            report("ignoring invalid topology from " + describe() + ": " + e.getMessage());
            lastContentError = lastError;
            return;
        }
        Topology prev = current;
        if (prev != null && next.version() < prev.version()) {
            report("ignoring topology version " + next.version() + " from " + describe() + ", older than current "
                    + prev.version());
            lastContentError = lastError;
            return;
        }
        lastError = null;
        if (next.equals(prev)) return; // only the writer's bookkeeping changed (revision, failover in progress)
        current = next;
        log.info("topology version {} loaded from {}: {} shards, {} vnodes each", next.version(), describe(),
                next.shards().size(), next.vnodes());
        listeners.forEach(l -> l.accept(next));
    }

    /** Logs a problem with the source once, until a different one or valid content comes. */
    protected final void report(String message) {
        if (!message.equals(lastError)) log.error(message);
        lastError = message;
    }

    /** As {@link #report}, for a state that is expected for a while (logged as information). */
    protected final void note(String message) {
        if (!message.equals(lastError)) log.info(message);
        lastError = message;
    }

    /** The last problem with the source, or null when the newest content was loaded. */
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
    public void close() {
        poller.shutdownNow();
    }
}
