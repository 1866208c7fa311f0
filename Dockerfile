# syntax=docker/dockerfile:1
# Sextant: a Prometheus-compatible monitoring server. Multi-stage: build (native better-sqlite3
# and TypeScript) on the full image, run on the slim one as a non-root user.
# Node 24 LTS: the newest LTS line better-sqlite3 12 supports (engines 20.x–25.x).
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
# better-sqlite3 compiles from source (allowScripts in package.json): needs python3, make, g++.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY storage ./storage
COPY promql ./promql
COPY discovery ./discovery
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

FROM node:${NODE_VERSION}-bookworm-slim
LABEL org.opencontainers.image.title="sextant" \
      org.opencontainers.image.description="Prometheus-compatible monitoring server" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /sextant
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY examples/prometheus.yml /etc/prometheus/prometheus.yml
# Same layout as Prometheus's image: config in /etc/prometheus, data in /prometheus, owned by nobody.
RUN mkdir -p /prometheus && chown -R nobody:nogroup /prometheus /etc/prometheus
USER nobody
EXPOSE 9090
VOLUME ["/prometheus"]
WORKDIR /prometheus
ENTRYPOINT ["node", "/sextant/dist/src/main.js"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
