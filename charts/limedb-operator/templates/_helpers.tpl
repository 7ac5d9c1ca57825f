{{/* Name of the chart, or nameOverride. */}}
{{- define "limedb-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Name of every object: fullnameOverride, else the release name, plus the chart name unless the release name has it. */}}
{{- define "limedb-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "limedb-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "limedb-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "limedb-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "limedb-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: limedb
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "limedb-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "limedb-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create=false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "limedb-operator.image" -}}
{{- printf "%s:%s" (required "image.repository is required" .Values.image.repository) (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}

{{- define "limedb-operator.nodeImage" -}}
{{- .Values.nodeImage | default (printf "limedb/node:%s" .Chart.AppVersion) }}
{{- end }}

{{/*
What the operator does in a namespace it watches, and nothing more. Used by the ClusterRole
(watchNamespaces empty) or by one Role per watched namespace.
*/}}
{{- define "limedb-operator.namespacedRules" -}}
# LimeCluster: read and watch, add or remove its finalizer, write its status.
- apiGroups: ["limedb.io"]
  resources: ["limeclusters"]
  verbs: ["get", "list", "watch", "update", "patch"]
- apiGroups: ["limedb.io"]
  resources: ["limeclusters/status"]
  verbs: ["get", "update", "patch"]
- apiGroups: ["limedb.io"]
  resources: ["limeclusters/finalizers"]
  verbs: ["update"]
# What a LimeCluster is made of: a StatefulSet per shard, the coordinator Deployment, their Services,
# the topology ConfigMap, the nodes' ServiceAccount, PodDisruptionBudgets.
- apiGroups: ["apps"]
  resources: ["statefulsets", "deployments"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: [""]
  resources: ["services", "configmaps", "serviceaccounts"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
# The Role (and its binding) that lets the node pods read the topology ConfigMap. Kubernetes lets
# the operator grant only what it holds itself: configmaps get/list/watch, above.
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles", "rolebindings"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
# Pods are watched for failover, never changed; volumes are deleted only when spec.storage.whenDeleted=Delete.
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["persistentvolumeclaims"]
  verbs: ["get", "list", "watch", "delete"]
# Events for every failover and rebalance step.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}
