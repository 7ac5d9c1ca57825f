package io.limedb.node.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeConfigTest {
    @Test
    void commandLineBeatsEnvironmentBeatsPropertiesBeatsDefaults() {
        var c = NodeConfig.resolve(List.of("--grpc.port=7000"),
                Map.of("LIMEDB_GRPC_PORT", "7001", "LIMEDB_HTTP_PORT", "7002"),
                p -> Map.of("limedb.http.port", "7003", "limedb.resp.port", "7004").get(p));
        assertThat(c.get(NodeConfig.GRPC_PORT)).isEqualTo(7000);
        assertThat(c.get(NodeConfig.HTTP_PORT)).isEqualTo(7002);
        assertThat(c.get(NodeConfig.RESP_PORT)).isEqualTo(7004);
        assertThat(c.get(NodeConfig.MAX_KEY_BYTES)).isEqualTo(65536);
        assertThat(c.get(NodeConfig.ROLE)).isEqualTo(NodeConfig.NodeRole.SHARD);
    }

    @Test
    void badValuesAndUnknownKeysAreRejectedWithTheKeyNamed() {
        assertThatThrownBy(() -> NodeConfig.resolve(List.of("--grpc.port=70000"), Map.of(), p -> null))
                .hasMessageContaining("grpc.port").hasMessageContaining("0..65535");
        assertThatThrownBy(() -> NodeConfig.resolve(List.of("--role=router"), Map.of(), p -> null))
                .hasMessageContaining("[shard, coordinator]");
        assertThatThrownBy(() -> NodeConfig.resolve(List.of("--no.such=1"), Map.of(), p -> null))
                .hasMessageContaining("no.such");
        assertThatThrownBy(() -> NodeConfig.resolve(List.of(), Map.of("LIMEDB_LIMITS_KEY_BYTES", "-1"), p -> null))
                .hasMessageContaining("limits.key.bytes");
    }

    @Test
    void everyKeyHasADescriptionAndAppearsInHelp() {
        String help = NodeConfig.help();
        for (var k : NodeConfig.ALL) {
            assertThat(k.description()).isNotBlank();
            assertThat(help).contains(k.name()).contains(k.envName());
        }
    }

    @Test
    void everyDeclaredKeyIsResolved() throws Exception {
        var declared = new java.util.ArrayList<ConfigKey<?>>();
        for (var f : NodeConfig.class.getFields()) {
            if (f.getType() == ConfigKey.class && java.lang.reflect.Modifier.isStatic(f.getModifiers())) {
                declared.add((ConfigKey<?>) f.get(null));
            }
        }
        assertThat(NodeConfig.ALL).as("a key missing from ALL has no value at run time").containsAll(declared);
    }
}
