{{- define "amadeus.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "amadeus.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "amadeus.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "amadeus.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "amadeus.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ default (include "amadeus.fullname" .) .Values.serviceAccount.name }}
{{- else -}}
{{ default "default" .Values.serviceAccount.name }}
{{- end -}}
{{- end -}}

{{- define "amadeus.jobServiceAccountName" -}}
{{- if .Values.practiceJobs.serviceAccount.create -}}
{{ default (printf "%s-practice" (include "amadeus.fullname" .)) .Values.practiceJobs.serviceAccount.name }}
{{- else -}}
{{ default "default" .Values.practiceJobs.serviceAccount.name }}
{{- end -}}
{{- end -}}

{{- define "amadeus.watchNamespaces" -}}
{{- if .Values.operator.watchNamespaces -}}
{{ join "," .Values.operator.watchNamespaces }}
{{- else -}}
{{ .Release.Namespace }}
{{- end -}}
{{- end -}}

{{/* Credentials, from existing Secrets only. */}}
{{- define "amadeus.secretEnv" -}}
{{- if .Values.s3.existingSecret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef: {name: {{ .Values.s3.existingSecret }}, key: {{ .Values.s3.accessKeyKey }}}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef: {name: {{ .Values.s3.existingSecret }}, key: {{ .Values.s3.secretKeyKey }}}
{{- end }}
{{- if .Values.mlflow.existingSecret }}
- name: MLFLOW_TRACKING_USERNAME
  valueFrom:
    secretKeyRef: {name: {{ .Values.mlflow.existingSecret }}, key: MLFLOW_TRACKING_USERNAME, optional: true}
- name: MLFLOW_TRACKING_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ .Values.mlflow.existingSecret }}, key: MLFLOW_TRACKING_PASSWORD, optional: true}
{{- end }}
{{- end -}}
