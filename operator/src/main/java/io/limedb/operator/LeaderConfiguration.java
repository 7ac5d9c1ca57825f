package io.limedb.operator;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import jakarta.inject.Singleton;

/**
 * Leader election through the Lease {@code limedb-operator-lease} in the operator's namespace: of two
 * or more operator replicas only the leader reconciles (and so runs control loops); a replica that
 * loses the lease exits and restarts as a follower. Active in the prod profile.
 */
@Singleton
public class LeaderConfiguration extends LeaderElectionConfiguration {
    public LeaderConfiguration() {
        super("limedb-operator-lease");
    }
}
