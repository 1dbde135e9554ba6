# The service as an image: `docker compose up` runs it with PostgreSQL and Redis.
# Node 20 as in development; dependencies from the lockfile, the Prisma client generated
# offline (no engine download), the TypeScript compiled to dist/.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000

# Install scripts are skipped: the project needs none in the image (no embedded PostgreSQL
# here, DATABASE_URL is required) and Prisma's would try to download engines.
COPY package.json package-lock.json prisma.config.ts tsconfig.json ./
COPY prisma ./prisma
COPY scripts ./scripts
COPY src ./src
RUN npm ci --ignore-scripts --no-audit --no-fund --include=dev \
 && node scripts/prisma-generate.mjs \
 && npm run build

COPY data ./data

# Dev dependencies stay: `npm run keys` (tsx) is how an operator makes the first API key:
#   docker compose exec api npm run keys -- create --name admin --role admin
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:3000/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "dist/server.js"]
