#!/bin/sh
# One-shot (compose.yaml's minio-init, image minio/mc): create the bucket vidsvc writes to.
# Idempotent: an existing bucket is left as it is. Settings come from the environment.
set -eu

: "${MINIO_URL:=http://minio:9000}"
: "${MINIO_ROOT_USER:?MINIO_ROOT_USER is not set}"
: "${MINIO_ROOT_PASSWORD:?MINIO_ROOT_PASSWORD is not set}"
: "${BUCKET:?BUCKET is not set}"

mc alias set vidsvc-minio "$MINIO_URL" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
mc mb --ignore-existing "vidsvc-minio/$BUCKET"
echo "bucket $BUCKET is ready"
