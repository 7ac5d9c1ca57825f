package io.limedb.node.bench;

import io.limedb.node.storage.StorageKeys;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/** What the in-process benchmarks share: their keys, their medians, and removing their data. */
final class BenchFiles {
    private BenchFiles() {}

    /** Key i as a shard stores it (ring position, then the key), as redis-benchmark's keys would be. */
    static byte[] storageKey(int i) {
        return StorageKeys.encode(String.format("key:%012d", i).getBytes(StandardCharsets.US_ASCII));
    }

    static double median(List<Double> values) {
        var sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }

    /** Deletes a directory and everything in it. */
    static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
