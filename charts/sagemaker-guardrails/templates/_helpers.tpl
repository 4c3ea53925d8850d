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

{{/* Several replicas coordinate through kopf peering; one replica runs standalone. */}}
{{- define "sagemaker-guardrails.ha" -}}
{{- if gt (int .Values.replicaCount) 1 }}true{{ end }}
{{- end }}

{{- define "sagemaker-guardrails.peeringName" -}}
{{- default (include "sagemaker-guardrails.fullname" .) .Values.peering.name }}
{{- end }}

{{- define "sagemaker-guardrails.metricsServiceName" -}}
{{- printf "%s-metrics" (include "sagemaker-guardrails.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The rules the operator needs on GuardedEndpoints and Events, wherever they are granted. */}}
{{- define "sagemaker-guardrails.resourceRules" -}}
- apiGroups: ["sagemaker-guardrails.dev"]
  resources: ["guardedendpoints"]
  verbs: ["get", "list", "watch", "patch", "update"]
- apiGroups: ["sagemaker-guardrails.dev"]
  resources: ["guardedendpoints/status"]
  verbs: ["get", "patch", "update"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
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
