# End-to-end targets, included by the top Makefile. See e2e/cluster.sh for what `up` does.
E2E_IMAGE ?= limedb/node:e2e
E2E_OPERATOR_IMAGE ?= limedb/operator:e2e
E2E_KUBECONFIG ?= $(CURDIR)/e2e/target/kubeconfig
export LIMEDB_E2E_IMAGE := $(E2E_IMAGE)
export LIMEDB_E2E_OPERATOR_IMAGE := $(E2E_OPERATOR_IMAGE)
export LIMEDB_E2E_KUBECONFIG := $(E2E_KUBECONFIG)

.PHONY: cluster cluster-down images e2e up down

cluster: ## kind cluster for e2e tests (builds its node image from package registries if needed)
	e2e/cluster.sh up

cluster-down: ## delete the e2e kind cluster (the build cache stays)
	e2e/cluster.sh down

images: ## build the node and operator images (offline JRE base if needed), load them into the cluster
	$(MVN) -pl node-image,operator -am -DskipTests package
	e2e/cluster.sh limedb-image
	e2e/cluster.sh operator-image

e2e: cluster images ## end-to-end tests (*E2E) on the kind cluster, the operator installed by the chart
	e2e/limedb.sh operator
	$(MVN) -Pe2e -pl e2e verify -Dlimedb.e2e.kubeconfig=$(E2E_KUBECONFIG) -Dlimedb.e2e.image=$(E2E_IMAGE)

up: ## LimeDB on kind: cluster, images, operator (Helm chart), a 3x3 LimeCluster `example`, wait Ready
	@export LIMEDB_UP_T0=$$(date +%s) && e2e/cluster.sh up && $(MAKE) --no-print-directory images && \
	  e2e/cluster.sh kubeconfig-default && e2e/limedb.sh install

down: ## undo `make up`: delete the example LimeCluster, helm uninstall the operator (the cluster stays)
	e2e/limedb.sh uninstall
