package io.limedb.node.resp;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/** One decoded request: the command name and its arguments, as raw bytes. */
public record RespCommand(List<byte[]> args) {

    /** Upper-case command name. */
    public String name() {
        return new String(args.get(0), StandardCharsets.ISO_8859_1).toUpperCase(Locale.ROOT);
    }

    public byte[] arg(int i) {
        return args.get(i);
    }

    public String argString(int i) {
        return new String(args.get(i), StandardCharsets.UTF_8);
    }

    public int size() {
        return args.size();
    }
}
