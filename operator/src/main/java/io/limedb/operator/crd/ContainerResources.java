package io.limedb.operator.crd;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * cpu and memory of a container, kept as the user wrote them, and turned into quantities only when the
 * operator builds a pod.
 *
 * <p>Not fabric8's {@code ResourceRequirements}: its {@code Quantity} throws while a LimeCluster is read, and the
 * operator reads every LimeCluster through one watch. A value it cannot parse ({@code limedb/node:e2e} in
 * {@code limits.memory}, stored before the CRD's quantity rule existed, or a quantity the API server accepts and
 * fabric8 does not) stopped that watch for every cluster. Read as strings, such a value is this cluster's
 * {@code InvalidSpec} status, and the other clusters are not touched.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ContainerResources {

    @JsonPropertyDescription("The most the container may use: cpu (e.g. 2, 500m) and memory (e.g. 1Gi).")
    public Map<String, IntOrString> limits;

    @JsonPropertyDescription("What the scheduler reserves for the container: cpu and memory.")
    public Map<String, IntOrString> requests;

    public ContainerResources() {
    }

    public ContainerResources(Map<String, String> limits, Map<String, String> requests) {
        this.limits = strings(limits);
        this.requests = strings(requests);
    }

    /**
     * What is not a quantity, each as {@code <path>.limits.memory: "x" is not a quantity ...}; empty when
     * {@link #toRequirements()} can build them all.
     */
    public List<String> problems(String path) {
        var found = new ArrayList<String>();
        check(path + ".limits", limits, found);
        check(path + ".requests", requests, found);
        return found;
    }

    /** The container's resources; only after {@link #problems} found none. */
    @JsonIgnore
    public ResourceRequirements toRequirements() {
        var r = new ResourceRequirements();
        r.setLimits(quantities(limits));
        r.setRequests(quantities(requests));
        return r;
    }

    private static void check(String path, Map<String, IntOrString> values, List<String> found) {
        if (values == null) return;
        values.forEach((name, value) -> {
            try {
                quantity(value);
            } catch (RuntimeException e) { // IllegalArgumentException, or ArithmeticException from the amount
                found.add(path + "." + name + ": \"" + text(value) + "\" is not a quantity (such as 512Mi, 1Gi, "
                        + "500m or 2)");
            }
        });
    }

    private static Map<String, Quantity> quantities(Map<String, IntOrString> values) {
        var out = new LinkedHashMap<String, Quantity>(); // empty, as fabric8's own model reads an absent map
        if (values != null) values.forEach((name, value) -> out.put(name, quantity(value)));
        return out;
    }

    private static Quantity quantity(IntOrString value) {
        String s = text(value);
        if (s == null || s.isBlank()) throw new IllegalArgumentException("empty quantity");
        var q = new Quantity(s);
        q.getNumericalAmount(); // parses the amount as well as the format
        return q;
    }

    private static String text(IntOrString value) {
        if (value == null) return null;
        return value.getIntVal() != null ? String.valueOf(value.getIntVal()) : value.getStrVal();
    }

    private static Map<String, IntOrString> strings(Map<String, String> values) {
        if (values == null) return null;
        var out = new LinkedHashMap<String, IntOrString>();
        values.forEach((name, value) -> out.put(name, new IntOrString(value)));
        return out;
    }
}
