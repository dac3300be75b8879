// Self-hosted files the portal's pages load: the Inter font from its npm
// package (no font CDN). Served with a year's cache: the package version is in
// the lockfile, and a new version ships under the same names only on a deploy.
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { Router } from 'express';

const require = createRequire(import.meta.url);
const interDir = path.dirname(require.resolve('@fontsource-variable/inter/package.json'));

export const portalAssets = Router();
portalAssets.use('/vendor/inter', express.static(interDir, { immutable: true, maxAge: '1y', index: false, fallthrough: false }));
