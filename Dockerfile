# Zoufang image: the Flask app with the built PWA. See docker-compose.yml for the whole shape.

# The PWA is built in its own stage: Node stays out of the final image.
FROM node:22-slim AS pwa
WORKDIR /src/pwa
COPY pwa/package.json pwa/package-lock.json ./
RUN npm ci
COPY pwa/ ./
RUN npm run build

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ZOUFANG_INSTANCE_DIR=/app/instance
RUN useradd --create-home --uid 10001 zoufang
WORKDIR /app

# Editable install: the app finds migrations/ and pwa/dist relative to its source tree.
# Installed against an empty package first, so the dependency layer survives code changes
# (the editable finder maps `backend` to /app/backend, whatever lands there later).
COPY pyproject.toml README.md ./
RUN mkdir backend && touch backend/__init__.py && pip install -e '.[postgres,s3]'
COPY backend/ backend/
COPY migrations/ migrations/
COPY --from=pwa /src/pwa/dist pwa/dist/

# Only the instance directory (secret key, local photos) is writable by the app.
RUN mkdir -p /app/instance && chown zoufang:zoufang /app/instance
USER zoufang

EXPOSE 8000
# Workers per container: WEB_CONCURRENCY (default 2); scale out with more containers. Long work
# (ledgers) runs in the jobs worker, the same image with `zoufang jobs worker` (docker-compose.yml).
CMD ["sh", "-c", "zoufang db upgrade && zoufang storage check && exec gunicorn --bind 0.0.0.0:8000 --workers \"${WEB_CONCURRENCY:-2}\" --access-logfile - 'backend:create_app()'"]
