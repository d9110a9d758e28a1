# livecut-bff image. The platform simulator runs from the same image with
# `node src/simulator/server.ts` (see docker-compose.yml).
#
# There is no build step: Node 24 runs the TypeScript sources directly by type stripping
# (the code uses only erasable syntax, see CONTRIBUTING.md), so the image carries src/ as it is.
# package.json is copied too: its "type": "module" makes Node load src/*.ts as ES modules.

# --- deps: production dependencies only ---
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=dev leaves out the test and type-check tools, and the `node` devDependency (the pinned
# runtime for npm scripts, whose install script fetches a Node binary): here the base image's
# Node 24 runs the service. --ignore-scripts: `node` is the only package with an install script.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# --- runtime ---
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    AUDIT_STORE_URL=sqlite:/app/data/audit.db
WORKDIR /app
# Code and dependencies stay owned by root: the service user can read them, not change them.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
# The SQLite audit trail lives on a volume the non-root user can write.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME /app/data
USER node
EXPOSE 3000
# Slim images have no curl: Node's built-in fetch probes the liveness route.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((res) => process.exit(res.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself (src/server.ts finishes in-flight cuts).
CMD ["node", "src/server.ts"]
