# durapay image: API, Temporal worker and migrations (the compose file picks the command).
# Debian (glibc) base, not Alpine: the Temporal SDK's native core-bridge has no musl build.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# --- build: full install, compile TypeScript to dist/ ------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm install, not npm ci: the lock lists only the Linux builds of native packages, which npm ci rejects.
RUN npm install --no-audit --no-fund
# Exactly what tsconfig.build.json compiles (rootDir `.`, so src/api/main.ts -> dist/src/api/main.js).
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build

# --- prod-deps: runtime dependencies only, no compilers or test tools ---------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime -------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and not writable by the app user: the code cannot be modified at run time.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The official node image ships this unprivileged user (uid 1000).
USER node
EXPOSE 3000
CMD ["node", "dist/src/api/main.js"]
