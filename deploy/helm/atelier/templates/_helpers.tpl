{{/* The chart's name, overridable. */}}
{{- define "atelier.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Objects are named after the release: "<release>-atelier", or "<release>" when it
already contains the chart's name. */}}
{{- define "atelier.fullname" -}}
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

{{- define "atelier.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "atelier.labels" -}}
helm.sh/chart: {{ include "atelier.chart" . }}
{{ include "atelier.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "atelier.selectorLabels" -}}
app.kubernetes.io/name: {{ include "atelier.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* A component's labels and selector: include with (dict "ctx" $ "component" "api"). */}}
{{- define "atelier.componentLabels" -}}
{{ include "atelier.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "atelier.componentSelector" -}}
{{ include "atelier.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "atelier.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}

{{- define "atelier.configMapName" -}}
{{- printf "%s-config" (include "atelier.fullname" .) }}
{{- end }}

{{- define "atelier.secretName" -}}
{{- default (printf "%s-secrets" (include "atelier.fullname" .)) .Values.secrets.existingSecret }}
{{- end }}

{{- define "atelier.modelsClaimName" -}}
{{- default (printf "%s-models" (include "atelier.fullname" .)) .Values.models.persistence.existingClaim }}
{{- end }}

{{/* The ConfigMap's data: the settings of values.config, as strings. */}}
{{- define "atelier.configData" -}}
{{- range $key, $value := .Values.config }}
{{- if not (hasPrefix "ATELIER_" $key) }}
{{- fail (printf "config.%s: only ATELIER_* settings belong in config" $key) }}
{{- end }}
{{ $key }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/* envFrom of every Atelier container: the settings and the secrets. The hook Jobs
(which run before the release's own ConfigMap and Secret exist) pass their hook copies. */}}
{{- define "atelier.envFrom" -}}
- configMapRef:
    name: {{ .configMap }}
- secretRef:
    name: {{ .secret }}
{{- end }}

{{- define "atelier.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext }}
{{- end }}
