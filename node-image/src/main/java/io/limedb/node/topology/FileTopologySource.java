package io.limedb.node.topology;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Topology from a JSON file, re-read when its content changes (polling, so it also follows a
 * Kubernetes ConfigMap volume, which swaps a symlink). An invalid file is reported and ignored; a
 * topology with a lower version than the current one is ignored.
 */
public final class FileTopologySource extends PolledTopologySource {
    private final Path file;

    public FileTopologySource(Path file, int defaultVnodes, long pollMs) {
        super(defaultVnodes);
        this.file = file;
        poll();
        pollEvery(pollMs);
    }

    @Override
    protected void poll() {
        try {
            accept(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            report("topology file " + file + " does not exist");
        } catch (IOException e) {
            report("cannot read topology file " + file + ": " + e.getMessage());
        }
    }

    @Override
    public String describe() {
        return "file " + file.toAbsolutePath();
    }
}
