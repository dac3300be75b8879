// "Request work" and "Ask to reschedule" in the portal: the multipart upload
// (memory, capped before anything is buffered past the limits), the photos'
// byte check and re-encoding, and the form page's locals.
import type { Request, Response } from 'express';
import multer from 'multer';
import type { PortalPageData } from '../db/portal-page.js';
import { formatArrivalWindow } from '../lib/dates.js';
import { msg, t } from '../i18n/index.js';
import { FormError } from '../lib/errors.js';
import { normalizeImage, type NormalizedImage } from '../lib/images.js';
import { MAX_REQUEST_PHOTO_BYTES, MAX_REQUEST_PHOTOS } from '../requests/schema.js';
import { portalPageLocals, portalReader, type PortalReader, type ViewExtras } from './view-model.js';

/** Longest side of a stored photo: enough to see a leak or a crack, small enough to keep in Postgres. */
const PHOTO_MAX_SIDE = 1600;

const upload = multer({
  storage: multer.memoryStorage(),
  // Files: the photos. Fields: _csrf, description, address, preferred_times (and room for a stray one).
  limits: { fileSize: MAX_REQUEST_PHOTO_BYTES, files: MAX_REQUEST_PHOTOS, fields: 6, fieldSize: 4096, parts: MAX_REQUEST_PHOTOS + 6 },
}).array('photos', MAX_REQUEST_PHOTOS);

const MB = MAX_REQUEST_PHOTO_BYTES / (1024 * 1024);

/** An upload over the limits: the message shown with the form, and its status. Nothing is stored. */
export interface UploadRefusal {
  message: string;
  status: 400 | 413;
}

/** Parses the multipart form into req.body and req.files; null when it was read, else why not. */
export function parseRequestUpload(req: Request, res: Response): Promise<UploadRefusal | null> {
  // i18n-exempt: HTTP header names and values
  if (!req.is('multipart/form-data')) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    upload(req, res, (err?: unknown) => {
      if (err instanceof multer.MulterError) {
        const tooMany = err.code === 'LIMIT_FILE_COUNT' || err.code === 'LIMIT_UNEXPECTED_FILE';
        const message =
          err.code === 'LIMIT_FILE_SIZE'
            ? msg('portal:request.photoTooBig', { mb: MB })
            : tooMany
              ? msg('portal:request.tooManyPhotos', { count: MAX_REQUEST_PHOTOS })
              : 'portal:request.unreadable';
        return resolve({ message, status: err.code === 'LIMIT_FILE_SIZE' ? 413 : 400 });
      }
      if (err) return reject(err instanceof Error ? err : new Error('upload failed'));
      resolve(null);
    });
  });
}

/** Each photo checked by its bytes and re-encoded to a JPEG without metadata (as logos are, src/lib/images.ts). */
export async function normalizeRequestPhotos(files: Express.Multer.File[] | undefined): Promise<NormalizedImage<'image/jpeg'>[]> {
  const photos: NormalizedImage<'image/jpeg'>[] = [];
  for (const [index, file] of (files ?? []).entries()) {
    try {
      photos.push(
        await normalizeImage(file.buffer, {
          field: 'photos',
          noun: 'photo',
          maxBytes: MAX_REQUEST_PHOTO_BYTES,
          maxSide: PHOTO_MAX_SIDE,
          output: 'jpeg',
        }),
      );
    } catch (err) {
      if (err instanceof FormError && (files ?? []).length > 1) {
        const message = msg('portal:request.photoNumbered', { index: index + 1, message: err.fields.photos ?? err.message });
        throw new FormError({ photos: message });
      }
      throw err;
    }
  }
  return photos;
}

export interface RequestFormPage {
  /** The visit to move, for "Ask to reschedule". */
  job?: { id: string; service_type: string; scheduled_at: string | Date | null; arrival_window_minutes: number } | null;
  defaultAddress?: string | null;
  sent?: 'work' | 'reschedule';
}

/** The form page in the portal's layout (the page data comes from the customer's own link). */
export function requestFormLocals(
  token: string,
  page: PortalPageData,
  form: RequestFormPage,
  extras: ViewExtras = {},
  reader: PortalReader = portalReader(page, null),
) {
  const rendered = portalPageLocals(token, page, extras, reader);
  const heading = t(
    reader.lang,
    form.sent ? 'portal:request.headingSent' : form.job ? 'portal:request.headingReschedule' : 'portal:request.headingWork',
  );
  // Asking for work or a new day starts from Service History: that tab stays marked.
  const tabs = (rendered.locals.tabs as { key: string; current: boolean }[]).map((tab) => ({ ...tab, current: tab.key === 'history' }));
  const values = extras.values ?? { address: form.defaultAddress ?? '' };
  // A customer with several properties says which one the work is for (or somewhere else).
  const chosenProperty = typeof values.property_id === 'string' ? values.property_id : (page.property_id ?? page.properties[0]?.id ?? '');
  const propertyChoices =
    !form.job && page.properties.length > 1
      ? page.properties.map((p) => ({
          value: p.id,
          label: p.label ? `${p.label} · ${p.address}` : p.address,
          selected: p.id === chosenProperty,
        }))
      : null;
  return {
    view: 'portal/request',
    locals: {
      ...rendered.locals,
      title: t(reader.lang, 'portal:page.title', { title: heading, org: page.org.name }),
      heading,
      tabs,
      welcome: false,
      job: form.job
        ? {
            ...form.job,
            arrival: formatArrivalWindow(form.job.scheduled_at, form.job.arrival_window_minutes, page.org.time_zone, reader.formatLocale),
          }
        : null,
      sent: form.sent ?? null,
      values: propertyChoices && !extras.values ? { ...values, address: '' } : values,
      propertyChoices,
      elsewhereChosen: chosenProperty === '',
      maxPhotos: MAX_REQUEST_PHOTOS,
      maxPhotoMb: MB,
      action: form.job ? `${rendered.locals.base as string}/visits/${form.job.id}/reschedule` : `${rendered.locals.base as string}/request`,
    },
  };
}
