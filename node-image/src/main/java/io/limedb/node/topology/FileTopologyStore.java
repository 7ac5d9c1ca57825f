package io.limedb.node.topology;

import io.limedb.core.topology.TopologyJson;
import io.limedb.core.control.ClusterState;
import io.limedb.core.control.TopologyStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The controller's {@link TopologyStore} in the topology file that coordinators read
 * ({@link FileTopologySource}): the topology plus the controller's bookkeeping, which coordinators
 * ignore. The version is the file's "revision", raised by every write; a write is a compare-and-set
 * under a file lock, synced and renamed into place, so readers never see half a file and a
 * controller that dies mid-write leaves the previous state.
 */
public final class FileTopologyStore implements TopologyStore {
    private static final Map<Path, Object> MONITORS = new ConcurrentHashMap<>();

    private final Path file;
    private final int defaultVnodes;
    private final Object monitor;

    public FileTopologyStore(Path file, int defaultVnodes) {
        this.file = file.toAbsolutePath().normalize();
        this.defaultVnodes = defaultVnodes;
        this.monitor = MONITORS.computeIfAbsent(this.file, f -> new Object());
    }

    public Path file() {
        return file;
    }

    @Override
    public Versioned read() {
        var s = load();
        return new Versioned(Long.toString(s.revision()), s.state());
    }

    @Override
    public boolean compareAndSet(String expectedVersion, ClusterState next) {
        synchronized (monitor) {
            try (var lock = FileChannel.open(lockFile(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    var held = lock.lock()) {
                long revision = Files.exists(file) ? load().revision() : 0;
                if (!Long.toString(revision).equals(expectedVersion)) return false;
                write(next, revision + 1);
                return true;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write topology file " + file, e);
            }
        }
    }

    /** The stored state, or empty when there is no file yet. */
    public Optional<ClusterState> current() {
        return Files.exists(file) ? Optional.of(load().state()) : Optional.empty();
    }

    private TopologyJson.Stored load() {
        try {
            return TopologyJson.parseState(Files.readAllBytes(file), defaultVnodes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read topology file " + file, e);
        }
    }

    private void write(ClusterState state, long revision) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (var ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.wrap(TopologyJson.writeState(state, revision).getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private Path lockFile() {
        return file.resolveSibling(file.getFileName() + ".lock");
    }
}
