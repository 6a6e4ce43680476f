# The whippet base image: node 20, the compiled CLI (whippet, fwatchdog), production dependencies
# and the templates. Function Dockerfiles start FROM it; the router is the same image with
# CMD ["whippet", "router"].
#
#   docker build -t ghcr.io/whippet/whippet:latest .
#
# Stage 1 compiles: TypeScript, better-sqlite3 and the posix_spawn addon need node-gyp and a C++
# toolchain, which node:20-bookworm (unlike -slim) has. Both stages are Debian bookworm, so the
# native modules built here load in the runtime stage.
FROM node:20-bookworm AS build
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund --no-update-notifier \
 && npm run build \
 && mkdir -p native/build \
 && npm prune --omit=dev --no-audit --no-fund

# Stage 2 runs: no compiler, no dev dependencies, no sources.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/whippet
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules/
COPY --from=build /src/dist ./dist/
# The posix_spawn addon (native/build/Release/whippet_spawn.node); the folder always exists, and the
# watchdog falls back to child_process when the addon is not in it.
COPY --from=build /src/native/build ./native/build/
COPY --from=build /src/templates ./templates/
# tini is PID 1: a handler's background processes are re-parented to PID 1 when the handler exits, and
# the watchdog (which kills the group but must reap only its own children, never waitpid(-1)) would
# leave them as zombies until pids.max is used up. tini reaps them and forwards SIGTERM to the watchdog.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
RUN chmod 0755 dist/cli/main.js dist/cli/fwatchdog.js \
 && ln -s /opt/whippet/dist/cli/main.js /usr/local/bin/whippet \
 && ln -s /opt/whippet/dist/cli/fwatchdog.js /usr/local/bin/fwatchdog \
 && groupadd --gid 10001 app \
 && useradd --uid 10001 --gid app --create-home --home-dir /home/app --shell /bin/bash app

USER app
WORKDIR /home/app
EXPOSE 8080
# No HEALTHCHECK here: the router shares this image and has its own (/healthz); every function
# template declares `HEALTHCHECK CMD ["fwatchdog", "--run-healthcheck"]`.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["fwatchdog"]
