/*
 * signal-safety.so - the tests' watch on signal handlers (loaded with LD_PRELOAD).
 *
 * A signal handler runs between any two instructions of the thread it interrupts - perhaps
 * while that thread is inside malloc() or holds the very lock the handler wants. So a handler
 * may call only async-signal-safe functions (POSIX lists them in signal-safety(7)): write(2),
 * yes; printf(), malloc(), pthread_mutex_lock(), no. Such a mistake almost never shows in a
 * test run, because the signal almost never lands at the wrong moment.
 *
 * This library makes it show every run. It wraps sigaction() and signal(): the handler a
 * server installs is called through trampoline(), which marks the thread as "inside a handler"
 * while it runs. The unsafe functions below are wrapped too: called inside a handler, they
 * print which function was called and abort the server (exit by SIGABRT). Outside a handler
 * they do exactly what they always do.
 *
 * The tests load it into every server they start without valgrind or a sanitizer
 * (tests/helpers.bash). It changes nothing for a server whose handlers only write(2).
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How deep this thread is in signal handlers (they can nest). */
static __thread int in_handler;

/* The server's own handler for each signal, called by trampoline(). */
static struct sigaction handlers[NSIG];

/* The real function behind this library, found once (the first call looks it up). */
#define DEFINE_REAL(name)                                                                          \
	static __typeof__(&name) real_##name(void)                                                 \
	{                                                                                          \
		static __typeof__(&name) found;                                                    \
		__typeof__(&name) f = __atomic_load_n(&found, __ATOMIC_RELAXED);                   \
		if (f == NULL) {                                                                   \
			void *symbol = real_function(#name);                                       \
			memcpy(&f, &symbol, sizeof f);                                             \
			__atomic_store_n(&found, f, __ATOMIC_RELAXED);                             \
		}                                                                                  \
		return f;                                                                          \
	}

static void *real_function(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (f == NULL) {
		static const char msg[] = "signal-safety.so: a libc function is missing\n";
		ssize_t ignored = write(2, msg, sizeof msg - 1);
		(void)ignored;
		abort();
	}
	return f;
}

DEFINE_REAL(sigaction)
DEFINE_REAL(vfprintf)
DEFINE_REAL(puts)
DEFINE_REAL(fputs)
DEFINE_REAL(fwrite)
DEFINE_REAL(fflush)
DEFINE_REAL(perror)
DEFINE_REAL(pthread_mutex_lock)
DEFINE_REAL(pthread_cond_signal)
DEFINE_REAL(pthread_cond_broadcast)
DEFINE_REAL(pthread_join)
DEFINE_REAL(exit)

/* Says which unsafe function a handler called, and stops the server. Only write(2) and
 * abort() here: we are inside a handler ourselves. */
static void forbidden(const char *name)
{
	const char *parts[] = {"signal-safety: a signal handler called ", name,
	                       "(), which is not async-signal-safe: a handler may run while its "
	                       "thread is inside that very function or holds its lock. Let the "
	                       "handler only write(2) a byte to a pipe (or set a volatile "
	                       "sig_atomic_t flag), and do the work outside it.\n"};
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		ssize_t ignored = write(2, parts[i], strlen(parts[i]));
		(void)ignored;
	}
	abort();
}

#define CHECK(name)                                                                                \
	do {                                                                                       \
		if (in_handler > 0)                                                                \
			forbidden(name);                                                           \
	} while (0)

static void trampoline(int signo, siginfo_t *info, void *context)
{
	struct sigaction *h = &handlers[signo];

	in_handler++;
	if (h->sa_flags & SA_SIGINFO)
		h->sa_sigaction(signo, info, context);
	else
		h->sa_handler(signo);
	in_handler--;
}

static int is_handler(const struct sigaction *act)
{
	return (act->sa_flags & SA_SIGINFO) ||
	       (act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN);
}

int sigaction(int signo, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction previous =
	        signo > 0 && signo < NSIG ? handlers[signo] : (struct sigaction){0};
	struct sigaction wrapped;
	int status;

	if (act == NULL || signo <= 0 || signo >= NSIG || !is_handler(act))
		return real_sigaction()(signo, act, old);
	wrapped = *act;
	wrapped.sa_flags |= SA_SIGINFO;
	wrapped.sa_sigaction = trampoline;
	handlers[signo] = *act;
	status = real_sigaction()(signo, &wrapped, old);
	if (status == 0 && old != NULL && old->sa_sigaction == trampoline)
		*old = previous; /* The server sees its own handler, not ours. */
	return status;
}

sighandler_t signal(int signo, sighandler_t handler)
{
	struct sigaction act = {.sa_handler = handler, .sa_flags = SA_RESTART}, old;

	sigemptyset(&act.sa_mask);
	return sigaction(signo, &act, &old) == -1 ? SIG_ERR : old.sa_handler;
}

/* The unsafe functions a handler is most tempted to call. malloc and its kin go straight to
 * glibc's own entry points: dlsym() itself may allocate. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

void *malloc(size_t size)
{
	CHECK("malloc");
	return __libc_malloc(size);
}

void *calloc(size_t count, size_t size)
{
	CHECK("calloc");
	return __libc_calloc(count, size);
}

void *realloc(void *p, size_t size)
{
	CHECK("realloc");
	return __libc_realloc(p, size);
}

void free(void *p)
{
	CHECK("free");
	__libc_free(p);
}

int printf(const char *format, ...)
{
	va_list args;
	int n;

	CHECK("printf");
	va_start(args, format);
	n = vfprintf(stdout, format, args);
	va_end(args);
	return n;
}

int fprintf(FILE *stream, const char *format, ...)
{
	va_list args;
	int n;

	CHECK("fprintf");
	va_start(args, format);
	n = vfprintf(stream, format, args);
	va_end(args);
	return n;
}

int vfprintf(FILE *stream, const char *format, va_list args)
{
	CHECK("vfprintf");
	return real_vfprintf()(stream, format, args);
}

int puts(const char *s)
{
	CHECK("puts");
	return real_puts()(s);
}

int fputs(const char *s, FILE *stream)
{
	CHECK("fputs");
	return real_fputs()(s, stream);
}

size_t fwrite(const void *p, size_t size, size_t count, FILE *stream)
{
	CHECK("fwrite");
	return real_fwrite()(p, size, count, stream);
}

int fflush(FILE *stream)
{
	CHECK("fflush");
	return real_fflush()(stream);
}

void perror(const char *s)
{
	CHECK("perror");
	real_perror()(s);
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
	CHECK("pthread_mutex_lock");
	return real_pthread_mutex_lock()(m);
}

int pthread_cond_signal(pthread_cond_t *c)
{
	CHECK("pthread_cond_signal");
	return real_pthread_cond_signal()(c);
}

int pthread_cond_broadcast(pthread_cond_t *c)
{
	CHECK("pthread_cond_broadcast");
	return real_pthread_cond_broadcast()(c);
}

int pthread_join(pthread_t thread, void **result)
{
	CHECK("pthread_join");
	return real_pthread_join()(thread, result);
}

void exit(int status)
{
	CHECK("exit");
	real_exit()(status);
	abort(); /* Not reached: exit() does not return. */
}
