# natsgate on the current Node LTS. Build: docker build -t natsgate .
# Run:   docker run -p 8080:8080 -e NATS_URL=nats://nats:4222 \
#          -v ./config:/config:ro -e NATSGATE_CONFIG=/config/natsgate.yaml natsgate
# No config file is shipped: without one (and so without auth) it refuses to listen on 0.0.0.0.
# PORT and HOST below win over server.port and server.host in the file.
# test/integration/production-image.test.ts performs these stages without Docker
# (test/support/dockerfile.ts) and runs the result: what is written here is what is tested.

# Compiles the TypeScript; dev dependencies never leave this stage.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No scripts: the package's own `prepare` build needs the sources copied below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY routes ./routes
COPY schemas ./schemas
COPY client ./client
RUN npm run build
# The console runs on @natsgate/client's browser build: its modules, without types or maps.
RUN mkdir -p console-client && cp client/dist/*.js console-client/

# Production dependencies only, installed fresh from the lockfile.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-slim
ENV NODE_ENV=production PORT=8080 HOST=0.0.0.0
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/console-client ./client/dist
COPY public ./public
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=2s CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: SIGTERM reaches node directly, so the gateway drains before exiting. The flags
# are npm start's (a 64 MiB young generation: README, "Memory and GC").
CMD ["node", "--max-semi-space-size=64", "dist/src/server.js"]
