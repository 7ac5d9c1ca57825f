package io.limedb.operator;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import jakarta.inject.Singleton;
import java.time.Duration;

/**
 * Leader election through the Lease {@code limedb-operator-lease} in the operator's namespace: of two
 * or more operator replicas only the leader reconciles (and so runs control loops); a replica that
 * loses the lease exits and restarts as a follower. Active in the prod profile. The lease lasts
 * 10 s (renewed every 2 s, given up after 7 s without renewal), so a killed leader's failovers
 * resume within about 10 s on the other replica.
 */
@Singleton
public class LeaderConfiguration extends LeaderElectionConfiguration {
    public LeaderConfiguration() {
        super("limedb-operator-lease", System.getenv("POD_NAMESPACE"), Duration.ofSeconds(10), Duration.ofSeconds(7),
                Duration.ofSeconds(2));
    }
}
