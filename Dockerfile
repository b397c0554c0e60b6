# The backfill CLI in a container: one image for every worker of an AWS Batch or Kubernetes array
# job. Build: docker build -t dynamo-evolve-backfill .   Run: docker run IMAGE migrate --help
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 COLUMNS=160
WORKDIR /app
COPY pyproject.toml README.md ./
COPY chalicelib ./chalicelib
COPY backfill ./backfill
RUN pip install . && useradd --uid 10001 --no-create-home backfill
# Local run stores (--backup-dir DIR) land here; on Batch/Kubernetes use s3://bucket/prefix.
WORKDIR /work
RUN chown backfill /work
USER backfill
ENTRYPOINT ["backfill"]
CMD ["--help"]
