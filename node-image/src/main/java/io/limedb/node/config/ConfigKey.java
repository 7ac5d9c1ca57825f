package io.limedb.node.config;

import java.util.Locale;
import java.util.function.Function;

/**
 * One configuration key: its name, type (by its parser), default and description. Read from
 * {@code --name=value}, the environment variable {@code LIMEDB_NAME} (dots and dashes become
 * underscores), or the system property {@code limedb.name}, in that order.
 */
public record ConfigKey<T>(String name, T defaultValue, String description, Function<String, T> parser) {

    public String envName() {
        return "LIMEDB_" + name.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    public String propertyName() {
        return "limedb." + name;
    }

    public T parse(String raw) {
        try {
            return parser.apply(raw.trim());
        } catch (RuntimeException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new IllegalArgumentException("invalid value '" + raw + "' for " + name + ": " + why, e);
        }
    }

    static ConfigKey<Integer> port(String name, int def, String description) {
        return new ConfigKey<>(name, def, description, s -> {
            int p = Integer.parseInt(s);
            if (p < 0 || p > 65535) throw new IllegalArgumentException("a port is 0..65535 (0 = any free port)");
            return p;
        });
    }

    static ConfigKey<Integer> positiveInt(String name, int def, String description) {
        return new ConfigKey<>(name, def, description, s -> {
            int v = Integer.parseInt(s);
            if (v <= 0) throw new IllegalArgumentException("must be > 0");
            return v;
        });
    }

    static ConfigKey<Long> positiveLong(String name, long def, String description) {
        return new ConfigKey<>(name, def, description, s -> {
            long v = Long.parseLong(s);
            if (v <= 0) throw new IllegalArgumentException("must be > 0");
            return v;
        });
    }

    static ConfigKey<String> string(String name, String def, String description) {
        return new ConfigKey<>(name, def, description, s -> s);
    }

    static ConfigKey<Boolean> bool(String name, boolean def, String description) {
        return new ConfigKey<>(name, def, description, s -> switch (s.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1", "on" -> true;
            case "false", "no", "0", "off" -> false;
            default -> throw new IllegalArgumentException("expected true or false");
        });
    }

    static <E extends Enum<E>> ConfigKey<E> oneOf(String name, E def, Class<E> type, String description) {
        return new ConfigKey<>(name, def, description, s -> {
            try {
                return Enum.valueOf(type, s.toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                var names = java.util.Arrays.stream(type.getEnumConstants())
                        .map(c -> c.name().toLowerCase(Locale.ROOT)).toList();
                throw new IllegalArgumentException("expected one of " + names);
            }
        });
    }
}
