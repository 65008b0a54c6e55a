# syntax=docker/dockerfile:1
# Build stage: full dependencies to compile TypeScript and bundle the widget.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Runtime stage: production dependencies and the build output only, as the unprivileged node user.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    FX_STATE_DIR=/var/lib/fx-ticker
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# the demo (`docker run … node dist/demo/demo.js`) replays these; it finds them at dist/demo/../../test/fixtures
COPY --chown=node:node test/fixtures/upstream ./test/fixtures/upstream
RUN mkdir -p /var/lib/fx-ticker && chown node:node /var/lib/fx-ticker
USER node
EXPOSE 8080
VOLUME ["/var/lib/fx-ticker"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node is PID 1 here: the service handles SIGTERM itself (stop polling, close clients with 1012, persist, exit 0)
STOPSIGNAL SIGTERM
CMD ["node", "dist/server.js"]
