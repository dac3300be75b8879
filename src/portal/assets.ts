// Self-hosted files the portal's pages load: the Inter font from its npm
// package (no font CDN) and signature_pad for the Approve form's drawn
// signature. Served with a year's cache: the package version is in the
// lockfile, and a new version ships under the same names only on a deploy.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

const require = createRequire(import.meta.url);
// i18n-exempt: a package file path
const interDir = path.dirname(require.resolve('@fontsource-variable/inter/package.json'));
// Its `exports` hide package.json and dist/*: resolve the bare name (its main file lives in dist/).
const signaturePadDir = path.dirname(fileURLToPath(import.meta.resolve('signature_pad')));
const vendorOptions = { immutable: true, maxAge: '1y', index: false, fallthrough: false };

export const portalAssets = Router();
portalAssets.use('/vendor/inter', express.static(interDir, vendorOptions));
portalAssets.use('/vendor/signature_pad', express.static(signaturePadDir, vendorOptions));
