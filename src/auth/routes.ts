// Sign up, log in, log out.
import { Router, type Request, type Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import { config } from '../config.js';
import { FormError } from '../http/errors.js';
import { createRateLimiter } from '../http/security.js';
import { parseForm } from '../http/validate.js';
import { logIn, signUp, type SessionIdentity } from './service.js';
import { logInSchema, safeNextPath, signUpSchema } from './schema.js';

export const authRouter = Router();

function formLocals(req: Request, extra: Record<string, unknown> = {}) {
  const { password: _password, _csrf, ...values } = (req.body ?? {}) as Record<string, unknown>;
  return { layout: 'public', values, ...extra };
}

/** A new session id on every login, so a planted cookie can't ride along. */
function startSession(req: Request, identity: SessionIdentity): Promise<void> {
  return new Promise((resolve, reject) => {
    req.session.regenerate((err) => {
      if (err) return reject(err);
      req.session.userId = identity.userId;
      req.session.orgId = identity.orgId;
      req.session.save((saveErr) => (saveErr ? reject(saveErr) : resolve()));
    });
  });
}

authRouter.get('/signup', (req, res) => {
  if (req.session.userId) return res.redirect('/');
  res.render('auth/signup', { layout: 'public', title: 'Create your account', values: {} });
});

authRouter.post('/signup', async (req: Request, res: Response) => {
  try {
    const input = parseForm(signUpSchema, req.body);
    const identity = await signUp(input);
    await startSession(req, identity);
    req.session.flash = { type: 'success', message: 'Welcome to Porchlight. Add your first customer to get started.' };
    res.redirect(303, '/');
  } catch (err) {
    if (!(err instanceof FormError)) throw err;
    res.status(422).render('auth/signup', formLocals(req, { title: 'Create your account', errors: err.fields }));
  }
});

// Per address and per account: slows guessing without locking out a whole office behind one IP.
const loginLimiter = createRateLimiter({
  name: 'login',
  windowMs: 15 * 60 * 1000,
  limit: config.isTest ? 5 : 10,
  skipSuccessfulRequests: true,
  requestWasSuccessful: (_req, res) => res.statusCode < 400,
  keyGenerator: (req) => {
    const email = typeof req.body?.email === 'string' ? req.body.email.trim().toLowerCase() : '';
    return `${ipKeyGenerator(req.ip ?? 'unknown')}|${email}`;
  },
  message: 'Too many login attempts. Wait 15 minutes, or reset your password.',
});

authRouter.get('/login', (req, res) => {
  if (req.session.userId) return res.redirect('/');
  res.render('auth/login', { layout: 'public', title: 'Log in', values: { next: req.query.next } });
});

authRouter.post('/login', loginLimiter, async (req: Request, res: Response) => {
  try {
    const input = parseForm(logInSchema, req.body);
    const identity = await logIn(input, req.ip);
    if (!identity) throw new FormError({ password: 'That email and password don’t match an account.' });
    await startSession(req, identity);
    res.redirect(303, safeNextPath(input.next));
  } catch (err) {
    if (!(err instanceof FormError)) throw err;
    res.status(422).render('auth/login', formLocals(req, { title: 'Log in', errors: err.fields }));
  }
});

authRouter.post('/logout', (req, res, next) => {
  req.session.destroy((err) => {
    if (err) return next(err);
    res.clearCookie('porchlight.sid');
    res.redirect(303, '/login');
  });
});
