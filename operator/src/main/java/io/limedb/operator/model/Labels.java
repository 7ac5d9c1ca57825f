package io.limedb.operator.model;

import io.limedb.operator.crd.LimeCluster;
import java.util.Map;
import java.util.TreeMap;

/**
 * The labels of a LimeCluster's objects. Selectors use only name, instance, component (and shard),
 * which never change, so a selector stays valid for the life of the object; managed-by is added
 * to the object labels only.
 */
public final class Labels {
    public static final String NAME = "app.kubernetes.io/name";
    public static final String INSTANCE = "app.kubernetes.io/instance";
    public static final String COMPONENT = "app.kubernetes.io/component";
    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String SHARD = "limedb.io/shard";
    public static final String APP = "limedb";
    public static final String MANAGER = "limedb-operator";

    /** The value of {@link #COMPONENT}: which part of the cluster an object belongs to. */
    public enum Component {
        SHARD("shard"), COORDINATOR("coordinator"), TOPOLOGY("topology"), NODE("node");

        public final String value;

        Component(String value) {
            this.value = value;
        }
    }

    private Labels() {}

    /** Selector of a component's pods or objects: name, instance and component. */
    public static Map<String, String> selector(LimeCluster cluster, Component component) {
        var labels = new TreeMap<String, String>();
        labels.put(NAME, APP);
        labels.put(INSTANCE, Names.name(cluster));
        labels.put(COMPONENT, component.value);
        return labels;
    }

    /** Selector of one shard's pods: the shard component's selector and {@code limedb.io/shard=shard-<i>}. */
    public static Map<String, String> shardSelector(LimeCluster cluster, int shard) {
        var labels = selector(cluster, Component.SHARD);
        labels.put(SHARD, Names.shardId(shard));
        return labels;
    }

    /** Labels of a component's objects: its selector plus managed-by. */
    public static Map<String, String> of(LimeCluster cluster, Component component) {
        return managed(selector(cluster, component));
    }

    /** Labels of one shard's objects (StatefulSet, Service, PDB, pods, PVCs). */
    public static Map<String, String> ofShard(LimeCluster cluster, int shard) {
        return managed(shardSelector(cluster, shard));
    }

    private static Map<String, String> managed(Map<String, String> selector) {
        var labels = new TreeMap<>(selector);
        labels.put(MANAGED_BY, MANAGER);
        return labels;
    }
}
