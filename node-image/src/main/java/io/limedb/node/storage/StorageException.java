package io.limedb.node.storage;

/** A storage engine failure, translated from the engine's own exception type. */
public class StorageException extends RuntimeException {
    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
