package io.limedb.core.control;

import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs a step every {@code periodMs} on its own daemon thread until closed: how both adapters drive
 * the {@link ControlLoop}. A step that throws is reported once per distinct error (and once more when
 * steps succeed again) and the next tick comes as usual.
 */
public final class TickThread implements AutoCloseable {
    private final long periodMs;
    private final Runnable step;
    private final Consumer<String> errorChanged;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile String lastError = "";

    /**
     * @param errorChanged told the new error when a step fails differently from the last one, and ""
     *                     when a step succeeds after a failure
     */
    public TickThread(String name, long periodMs, Runnable step, Consumer<String> errorChanged) {
        this.periodMs = periodMs;
        this.step = Objects.requireNonNull(step, "step");
        this.errorChanged = Objects.requireNonNull(errorChanged, "errorChanged");
        this.thread = new Thread(this::run, name);
        thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /** The last step's error, or "" when it went through. */
    public String lastError() {
        return lastError;
    }

    private void run() {
        while (running) {
            long start = System.nanoTime();
            String error = "";
            try {
                step.run();
            } catch (RuntimeException e) {
                error = e.toString();
            }
            if (!error.equals(lastError)) {
                lastError = error;
                errorChanged.accept(error);
            }
            long sleep = periodMs - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (sleep > 0) {
                try {
                    Thread.sleep(sleep);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** Stops after the step in progress, waiting up to 2 s for it. */
    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
