package io.limedb.operator;

import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.limedb.operator.crd.LimeCluster;

/** Turns a LimeCluster into its StatefulSets, Services, coordinator and topology. */
@ControllerConfiguration(name = "limecluster")
public class LimeClusterReconciler implements Reconciler<LimeCluster> {

    @Override
    public UpdateControl<LimeCluster> reconcile(LimeCluster resource, Context<LimeCluster> context) {
        return UpdateControl.noUpdate();
    }
}
