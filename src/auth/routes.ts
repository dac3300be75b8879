// Sign up (confirmed by email), log in, log out; invitation links; password reset by email.
import { Router, type Request, type Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import { config } from '../config.js';
import { createRateLimiter } from '../http/security.js';
import { saveSession } from '../http/page.js';
import { browserLanguage, t, type Language } from '../i18n/index.js';
import { FormError } from '../lib/errors.js';
import { formValues, parseForm } from '../lib/forms.js';
import { logger } from '../logger.js';
import { sendAccountEmail } from '../mail/account-email.js';
import {
  acceptInvitation,
  completeSignUp,
  findSignUp,
  logIn,
  PASSWORD_RESET_MINUTES,
  requestPasswordReset,
  requestSignUp,
  resetPassword,
  SIGNUP_LINK_HOURS,
  type SessionIdentity,
} from './commands.js';
import { checkPasswordReset, findInvitation, UnusableLinkError, type LinkProblem } from './queries.js';
import {
  acceptInvitationSchema,
  finishSignUpSchema,
  forgotPasswordSchema,
  logInSchema,
  resetPasswordSchema,
  safeNextPath,
  signUpSchema,
  type SignUpInput,
} from './schema.js';

export const authRouter = Router();

/** Sign-in pages read in the browser's language (set in app.ts from Accept-Language). */
const langOf = (res: Response): Language => res.locals.lang as Language;

/** The sign-up form's business-name field (named here: see views/auth/signup.hbs). */
const ORG_NAME_FIELD = 'orgName';

function formLocals(req: Request, extra: Record<string, unknown> = {}) {
  return { layout: 'public', values: formValues(req.body), orgNameField: ORG_NAME_FIELD, ...extra };
}

/** A new session id on every login, so a planted cookie can't ride along; written before the redirect that follows. */
async function startSession(req: Request, identity: SessionIdentity, flash?: string): Promise<void> {
  await regenerateSession(req);
  req.session.userId = identity.userId;
  req.session.orgId = identity.orgId;
  if (flash) req.session.flash = { type: 'success', message: flash };
  await saveSession(req);
}

function regenerateSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.regenerate((err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve())),
  );
}

/** A limiter key for one client address and the account it names (the email typed in the form). */
function perAddressAndEmail(req: Request): string {
  const email = (req.body as { email?: unknown } | undefined)?.email;
  return `${ipKeyGenerator(req.ip ?? 'unknown')}|${typeof email === 'string' ? email.trim().toLowerCase() : ''}`;
}

// Strangers can hammer these: each sign-up sends an email; each link visit looks
// up a token, and finishing a sign-up runs a password check and argon2.
const signupLimiter = createRateLimiter({
  name: 'signup',
  windowMs: 60 * 60 * 1000,
  limit: 20,
  keyGenerator: (req) => ipKeyGenerator(req.ip ?? 'unknown'),
  message: 'auth:limit.signup',
});

const accountLinkLimiter = createRateLimiter({
  name: 'account-link', // i18n-exempt: names and paths
  windowMs: 15 * 60 * 1000,
  limit: 60,
  keyGenerator: (req) => ipKeyGenerator(req.ip ?? 'unknown'),
  message: 'auth:limit.accountLink',
});

// Each address gets at most a few sign-up emails an hour, whoever asks.
const signupEmailLimiter = createRateLimiter({
  name: 'signup-email', // i18n-exempt: names and paths
  windowMs: 60 * 60 * 1000,
  limit: 5,
  keyGenerator: (req) => {
    const email = (req.body as { email?: unknown } | undefined)?.email;
    return typeof email === 'string' ? email.trim().toLowerCase() : '';
  },
  message: 'auth:limit.signupEmail',
});

authRouter.get('/signup', (req, res) => {
  if (req.session.userId) return res.redirect('/');
  res.render('auth/signup', {
    layout: 'public',
    title: t(langOf(res), 'auth:title.createAccount'),
    values: {},
    orgNameField: ORG_NAME_FIELD,
  });
});

authRouter.post('/signup', signupLimiter, signupEmailLimiter, (req: Request, res: Response) => {
  let input: SignUpInput;
  try {
    input = parseForm(signUpSchema, req.body);
  } catch (err) {
    if (!(err instanceof FormError)) throw err;
    return res
      .status(422)
      .render('auth/signup', formLocals(req, { title: t(langOf(res), 'auth:title.createAccount'), errors: err.fields }));
  }
  // Not awaited, new address or not: the same page at the same moment either
  // way, so the form tells no one which emails have accounts.
  void requestSignUp(input, req.ip)
    .then((request) =>
      request.kind === 'confirm'
        ? sendAccountEmail({
            to: request.to,
            template: 'signup-confirm', // i18n-exempt: names and paths
            lang: browserLanguage(req),
            locals: {
              name: request.name,
              orgName: request.orgName,
              link: `${config.publicUrl}/signup/${request.token}`,
              validHours: SIGNUP_LINK_HOURS,
            },
          })
        : sendAccountEmail({
            to: request.to,
            template: 'signup-existing', // i18n-exempt: names and paths
            lang: browserLanguage(req),
            locals: { name: request.name, loginLink: `${config.publicUrl}/login`, resetLink: `${config.publicUrl}/forgot-password` }, // i18n-exempt: names and paths
          }),
    )
    .catch((err) => logger.error({ err: (err as Error).message }, 'sign-up request failed'));
  // i18n-exempt: names and paths
  res.render('auth/signup-sent', {
    layout: 'public',
    title: t(langOf(res), 'auth:title.checkEmail'),
    email: input.email,
    validHours: SIGNUP_LINK_HOURS,
  });
});

// Per address and per account: slows guessing without locking out a whole office behind one IP.
const loginLimiter = createRateLimiter({
  name: 'login',
  windowMs: 15 * 60 * 1000,
  limit: 10,
  skipSuccessfulRequests: true,
  requestWasSuccessful: (_req, res) => res.statusCode < 400,
  keyGenerator: perAddressAndEmail,
  message: 'auth:limit.login',
});

authRouter.get('/login', (req, res) => {
  if (req.session.userId) return res.redirect('/');
  res.render('auth/login', { layout: 'public', title: t(langOf(res), 'auth:title.logIn'), values: { next: req.query.next } });
});

// One address trying one password against many accounts is caught here.
const loginIpLimiter = createRateLimiter({
  name: 'login-ip', // i18n-exempt: names and paths
  windowMs: 15 * 60 * 1000,
  limit: 100,
  skipSuccessfulRequests: true,
  requestWasSuccessful: (_req, res) => res.statusCode < 400,
  keyGenerator: (req) => ipKeyGenerator(req.ip ?? 'unknown'),
  message: 'auth:limit.loginIp',
});

authRouter.post('/login', loginIpLimiter, loginLimiter, async (req: Request, res: Response) => {
  try {
    const input = parseForm(logInSchema, req.body);
    const identity = await logIn(input, req.ip);
    if (!identity) throw new FormError({ password: 'auth:error.badLogin' });
    await startSession(req, identity);
    res.redirect(303, safeNextPath(input.next));
  } catch (err) {
    if (!(err instanceof FormError)) throw err;
    res.status(422).render('auth/login', formLocals(req, { title: t(langOf(res), 'auth:title.logIn'), errors: err.fields }));
  }
});

authRouter.post('/logout', (req, res, next) => {
  req.session.destroy((err) => {
    if (err) return next(err);
    res.clearCookie('porchlight.sid'); // i18n-exempt: the session cookie's name
    res.redirect(303, '/login');
  });
});

// --- one-time links: invitations and password resets ---

/** What a one-time link page says when the link can't be used: the catalogue's auth:problem.<kind>.<problem>. */
type LinkKind = 'invitation' | 'reset' | 'signup';

/** Unknown links are 404; links that existed but can't be used any more are 410 Gone. */
function linkProblemPage(res: Response, kind: LinkKind, problem: LinkProblem): void {
  // i18n-exempt: names and paths
  res.status(problem === 'unknown' ? 404 : 410).render('auth/link-problem', {
    layout: 'public',
    title: t(langOf(res), `auth:problem.${kind}.title`),
    message: `auth:problem.${kind}.${problem}`,
    offerReset: kind === 'reset',
    offerSignup: kind === 'signup' && problem !== 'used',
  });
}

function tokenParam(req: Request): string {
  return String(req.params.token ?? '');
}

authRouter.get('/invite/:token', accountLinkLimiter, async (req: Request, res: Response) => {
  try {
    const invitation = await findInvitation(tokenParam(req));
    // i18n-exempt: names and paths
    res.render('auth/accept-invitation', {
      layout: 'public',
      title: t(langOf(res), 'auth:title.join', { org: invitation.orgName }),
      invitation,
      roleName: t(langOf(res), `auth:page.role.${invitation.role}`),
      values: {},
    });
  } catch (err) {
    if (err instanceof UnusableLinkError) return linkProblemPage(res, 'invitation', err.problem);
    throw err;
  }
});

authRouter.post('/invite/:token', accountLinkLimiter, async (req: Request, res: Response) => {
  const token = tokenParam(req);
  try {
    const input = parseForm(acceptInvitationSchema, req.body);
    const identity = await acceptInvitation(token, input, req.ip);
    await startSession(req, identity, t(langOf(res), 'auth:flash.welcomeTeam'));
    res.redirect(303, '/');
  } catch (err) {
    if (err instanceof UnusableLinkError) return linkProblemPage(res, 'invitation', err.problem);
    if (!(err instanceof FormError)) throw err;
    const invitation = await findInvitation(token).catch(() => null);
    if (!invitation) return linkProblemPage(res, 'invitation', 'unknown');
    res.status(422).render(
      'auth/accept-invitation', // i18n-exempt: names and paths
      formLocals(req, {
        title: t(langOf(res), 'auth:title.join', { org: invitation.orgName }),
        invitation,
        roleName: t(langOf(res), `auth:page.role.${invitation.role}`),
        errors: err.fields,
        formError: err.fields._form,
      }),
    );
  }
});

authRouter.get('/signup/:token', accountLinkLimiter, async (req: Request, res: Response) => {
  try {
    const signup = await findSignUp(tokenParam(req));
    res.render('auth/finish-signup', { layout: 'public', title: t(langOf(res), 'auth:title.finishSignup'), signup, values: {} }); // i18n-exempt: names and paths
  } catch (err) {
    if (err instanceof UnusableLinkError) return linkProblemPage(res, 'signup', err.problem);
    throw err;
  }
});

authRouter.post('/signup/:token', accountLinkLimiter, async (req: Request, res: Response) => {
  const token = tokenParam(req);
  try {
    const { password, timeZone } = parseForm(finishSignUpSchema, req.body);
    const identity = await completeSignUp(token, password, req.ip, timeZone);
    await startSession(req, identity, t(langOf(res), 'auth:flash.welcomeSignup'));
    res.redirect(303, '/');
  } catch (err) {
    if (err instanceof UnusableLinkError) return linkProblemPage(res, 'signup', err.problem);
    if (!(err instanceof FormError)) throw err;
    const signup = await findSignUp(token).catch(() => null);
    if (!signup) return linkProblemPage(res, 'signup', 'used');
    res.status(422).render(
      'auth/finish-signup', // i18n-exempt: names and paths
      formLocals(req, { title: t(langOf(res), 'auth:title.finishSignup'), signup, errors: err.fields, formError: err.fields._form }),
    );
  }
});

// Per address and account, like log-in; plus a wider per-address cap against email flooding.
const resetRequestLimiter = createRateLimiter({
  name: 'password-reset', // i18n-exempt: names and paths
  windowMs: 15 * 60 * 1000,
  limit: 5,
  keyGenerator: perAddressAndEmail,
  message: 'auth:limit.reset',
});
const resetRequestIpLimiter = createRateLimiter({
  name: 'password-reset-ip', // i18n-exempt: names and paths
  windowMs: 60 * 60 * 1000,
  limit: 30,
  keyGenerator: (req) => ipKeyGenerator(req.ip ?? 'unknown'),
  message: 'auth:limit.resetIp',
});

// i18n-exempt: names and paths
authRouter.get('/forgot-password', (req, res) => {
  res.render('auth/forgot-password', { layout: 'public', title: t(langOf(res), 'auth:title.resetPassword'), values: {} }); // i18n-exempt: names and paths
});

// i18n-exempt: names and paths
authRouter.post('/forgot-password', resetRequestIpLimiter, resetRequestLimiter, (req: Request, res: Response) => {
  let email: string;
  try {
    ({ email } = parseForm(forgotPasswordSchema, req.body));
  } catch (err) {
    if (!(err instanceof FormError)) throw err;
    return res
      .status(422)
      .render('auth/forgot-password', formLocals(req, { title: t(langOf(res), 'auth:title.resetPassword'), errors: err.fields })); // i18n-exempt: names and paths
  }
  // Not awaited, whether or not the account exists: the answer takes the same
  // time either way, so it reveals nothing about which emails have accounts.
  void requestPasswordReset(email, req.ip)
    .then((request) => {
      if (!request) return;
      return sendAccountEmail({
        to: request.to,
        template: 'password-reset', // i18n-exempt: names and paths
        lang: browserLanguage(req),
        locals: { name: request.name, link: `${config.publicUrl}/reset-password/${request.token}`, validMinutes: PASSWORD_RESET_MINUTES }, // i18n-exempt: names and paths
      });
    })
    .catch((err) => logger.error({ err: (err as Error).message }, 'password reset request failed'));
  res.render('auth/forgot-password-sent', { layout: 'public', title: t(langOf(res), 'auth:title.checkEmail'), email }); // i18n-exempt: names and paths
});

// i18n-exempt: names and paths
authRouter.get('/reset-password/:token', accountLinkLimiter, async (req: Request, res: Response) => {
  try {
    await checkPasswordReset(tokenParam(req));
    res.render('auth/reset-password', { layout: 'public', title: t(langOf(res), 'auth:title.chooseNewPassword'), values: {} }); // i18n-exempt: names and paths
  } catch (err) {
    if (err instanceof UnusableLinkError) return linkProblemPage(res, 'reset', err.problem);
    throw err;
  }
});

// i18n-exempt: names and paths
authRouter.post('/reset-password/:token', accountLinkLimiter, async (req: Request, res: Response) => {
  try {
    const { password } = parseForm(resetPasswordSchema, req.body);
    await resetPassword(tokenParam(req), password, req.ip);
    // Every session of that user was ended; start this browser afresh too.
    await regenerateSession(req);
    req.session.flash = { type: 'success', message: t(langOf(res), 'auth:flash.passwordChanged') };
    await saveSession(req);
    res.redirect(303, '/login');
  } catch (err) {
    if (err instanceof UnusableLinkError) return linkProblemPage(res, 'reset', err.problem);
    if (!(err instanceof FormError)) throw err;
    res
      .status(422)
      .render('auth/reset-password', formLocals(req, { title: t(langOf(res), 'auth:title.chooseNewPassword'), errors: err.fields })); // i18n-exempt: names and paths
  }
});
