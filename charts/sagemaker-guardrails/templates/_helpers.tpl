{{/* Names, labels and the small decisions shared by the templates. */}}

{{- define "sagemaker-guardrails.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sagemaker-guardrails.fullname" -}}
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

{{- define "sagemaker-guardrails.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sagemaker-guardrails.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sagemaker-guardrails.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "sagemaker-guardrails.labels" -}}
helm.sh/chart: {{ include "sagemaker-guardrails.chart" . }}
{{ include "sagemaker-guardrails.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: sagemaker-guardrails
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "sagemaker-guardrails.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sagemaker-guardrails.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "sagemaker-guardrails.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Several replicas: HA, which needs leader election. */}}
{{- define "sagemaker-guardrails.ha" -}}
{{- if gt (int .Values.replicaCount) 1 }}true{{ end }}
{{- end }}

{{/*
The pods' affinity: the user's, plus (with several replicas) a podAntiAffinity on the node between
this release's pods, unless the user's affinity has a podAntiAffinity of its own.
*/}}
{{- define "sagemaker-guardrails.affinity" -}}
{{- $affinity := deepCopy (.Values.affinity | default dict) }}
{{- $mode := .Values.highAvailability.podAntiAffinity }}
{{- if and (include "sagemaker-guardrails.ha" .) (ne $mode "none") (not (hasKey $affinity "podAntiAffinity")) }}
{{- $term := dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" (include "sagemaker-guardrails.selectorLabels" . | fromYaml)) }}
{{- if eq $mode "hard" }}
{{- $_ := set $affinity "podAntiAffinity" (dict "requiredDuringSchedulingIgnoredDuringExecution" (list $term)) }}
{{- else }}
{{- $_ := set $affinity "podAntiAffinity" (dict "preferredDuringSchedulingIgnoredDuringExecution" (list (dict "weight" 100 "podAffinityTerm" $term))) }}
{{- end }}
{{- end }}
{{- if $affinity }}{{ toYaml $affinity }}{{ end }}
{{- end }}

{{/*
The pods' topology spread: the user's constraints, else (with several replicas) one over
highAvailability.zoneTopologyKey that never blocks scheduling.
*/}}
{{- define "sagemaker-guardrails.topologySpread" -}}
{{- if .Values.topologySpreadConstraints }}
{{- toYaml .Values.topologySpreadConstraints }}
{{- else if and (include "sagemaker-guardrails.ha" .) .Values.highAvailability.zoneTopologyKey }}
- maxSkew: 1
  topologyKey: {{ .Values.highAvailability.zoneTopologyKey }}
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "sagemaker-guardrails.selectorLabels" . | nindent 6 }}
{{- else }}
[]
{{- end }}
{{- end }}

{{/*
Whether the pods elect a leader through a Lease: leaderElection.enabled, or, when it is null (the
default), whenever there are several replicas. Several replicas without it would all reconcile
the same GuardedEndpoints, so that combination is refused.
*/}}
{{- define "sagemaker-guardrails.leaderElection" -}}
{{- $enabled := .Values.leaderElection.enabled }}
{{- if kindIs "invalid" $enabled }}
{{- include "sagemaker-guardrails.ha" . }}
{{- else if $enabled }}true
{{- else if include "sagemaker-guardrails.ha" . }}
{{- fail "leaderElection.enabled=false needs replicaCount <= 1: several replicas without leader election would all reconcile" }}
{{- end }}
{{- end }}

{{- define "sagemaker-guardrails.leaseName" -}}
{{- default (include "sagemaker-guardrails.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{- define "sagemaker-guardrails.metricsServiceName" -}}
{{- printf "%s-metrics" (include "sagemaker-guardrails.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The rules the operator needs on GuardedEndpoints and Events, wherever they are granted. */}}
{{- define "sagemaker-guardrails.resourceRules" -}}
- apiGroups: ["sagemaker-guardrails.dev"]
  resources: ["guardedendpoints"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["sagemaker-guardrails.dev"]
  resources: ["guardedendpoints/status"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end }}

{{/* What kopf itself reads cluster-wide: CRDs (to find the resource) and namespaces. */}}
{{- define "sagemaker-guardrails.discoveryRules" -}}
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["get", "list", "watch"]
{{- end }}
