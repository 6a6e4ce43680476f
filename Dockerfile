# whippet images, from one Dockerfile (docs/images.md):
#
#   docker build --target watchdog -t ghcr.io/whippet/watchdog:latest .   # what function images start FROM
#   docker build -t ghcr.io/whippet/whippet:latest .                      # router, worker, the whole CLI
#
# The watchdog image carries only what `fwatchdog` loads: the compiled common/, watchdog/, the
# fwatchdog entry and its start bundle, yargs, prom-client and undici (http mode's pool), the native spawn addon and tini. The whippet image adds the
# router, the worker, the queues (better-sqlite3, the NATS clients) and the templates.
#
# NODE_BUILD_IMAGE / NODE_RUNTIME_IMAGE pick the Node 20 Debian bookworm images; where no registry is
# reachable, scripts/local-base.mjs makes local ones and prints the --build-arg flags for them.
ARG NODE_BUILD_IMAGE=node:20-bookworm
ARG NODE_RUNTIME_IMAGE=node:20-bookworm-slim

# Compiles: TypeScript, better-sqlite3 and the native spawn addon need node-gyp and a C++ toolchain,
# which node:20-bookworm (unlike -slim) has. Both bases are Debian bookworm, so the native modules
# built here load in the runtime stages.
FROM ${NODE_BUILD_IMAGE} AS build
WORKDIR /src
# Dependencies before sources: this layer is reused until the lock file or the addon changes.
COPY package.json package-lock.json ./
COPY native/ ./native/
RUN npm ci --no-audit --no-fund --no-update-notifier \
 && mkdir -p native/build
COPY tsconfig.json tsconfig.build.json ./
COPY common/ ./common/
COPY watchdog/ ./watchdog/
COPY router/ ./router/
COPY stack/ ./stack/
COPY cli/ ./cli/
COPY ui/ ./ui/
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# The watchdog's own node_modules: package.json cut down to yargs, prom-client and undici, resolved against
# the same lock file (so the same versions), from the npm cache `npm ci` filled above.
FROM build AS watchdog-deps
WORKDIR /watchdog
RUN cp /src/package.json /src/package-lock.json ./ \
 && node -e 'const fs = require("node:fs"), pkg = JSON.parse(fs.readFileSync("package.json", "utf8")); \
      pkg.dependencies = { yargs: pkg.dependencies.yargs, "prom-client": pkg.dependencies["prom-client"], undici: pkg.dependencies.undici }; \
      for (const key of ["devDependencies", "scripts", "bin"]) delete pkg[key]; \
      fs.writeFileSync("package.json", JSON.stringify(pkg, null, 2));' \
 && npm install --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --no-update-notifier

# What both images run on: Node 20 (slim), tini as PID 1 and the user `app`.
# tini: a handler's background processes are re-parented to PID 1 when the handler exits, and the
# watchdog (which kills the group but must reap only its own children, never waitpid(-1)) would leave
# them as zombies until pids.max is used up. tini reaps them and forwards SIGTERM to the watchdog.
FROM ${NODE_RUNTIME_IMAGE} AS runtime
ENV NODE_ENV=production
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 app \
 && useradd --uid 10001 --gid app --create-home --home-dir /home/app --shell /bin/bash app
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--"]

# The function base image: `fwatchdog` and nothing else of whippet.
FROM runtime AS watchdog
WORKDIR /opt/whippet
COPY --from=watchdog-deps /watchdog/package.json ./
COPY --from=watchdog-deps /watchdog/node_modules ./node_modules/
COPY --from=build /src/dist/common ./dist/common/
COPY --from=build /src/dist/watchdog ./dist/watchdog/
COPY --from=build /src/dist/cli/fwatchdog.cjs /src/dist/cli/fwatchdog.js /src/dist/cli/start-bundle.cjs /src/dist/cli/run.js /src/dist/cli/errors.js /src/dist/cli/fast-path.js /src/dist/cli/serve.js ./dist/cli/
COPY --from=build /src/dist/cli/commands/watchdog.js ./dist/cli/commands/
# The start bundle and its V8 code cache (cli/start-bundle.cts): what `fwatchdog` starts from; the modules above
# are for --help, a usage error, or a bundle that is missing.
COPY --from=build /src/dist/cli/start ./dist/cli/start/
# The native spawn addon (native/build/Release/whippet_spawn.node); the folder always exists, and the
# watchdog falls back to child_process when the addon is not in it.
COPY --from=build /src/native/build ./native/build/
RUN chmod 0755 dist/cli/fwatchdog.cjs \
 && ln -s /opt/whippet/dist/cli/fwatchdog.cjs /usr/local/bin/fwatchdog
USER app
WORKDIR /home/app
# No HEALTHCHECK here: every function template declares `HEALTHCHECK CMD ["fwatchdog", "--run-healthcheck"]`.
CMD ["fwatchdog"]

# The router, the worker and the whole CLI (the default target).
FROM runtime AS whippet
WORKDIR /opt/whippet
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules/
COPY --from=build /src/dist ./dist/
COPY --from=build /src/native/build ./native/build/
COPY templates/ ./templates/
RUN chmod 0755 dist/cli/main.cjs dist/cli/fwatchdog.cjs \
 && ln -s /opt/whippet/dist/cli/main.cjs /usr/local/bin/whippet \
 && ln -s /opt/whippet/dist/cli/fwatchdog.cjs /usr/local/bin/fwatchdog
USER app
WORKDIR /home/app
# No HEALTHCHECK: deploy/compose.yaml and the Kubernetes probes check the router's /healthz.
CMD ["whippet", "router"]
