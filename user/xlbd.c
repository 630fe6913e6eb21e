// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbd: the XLB agent. Reads its command line and configuration, then
 * runs (xlbd_start.c) from one epoll loop until SIGTERM/SIGINT or lbctl
 * shutdown; SIGHUP reloads. The files of the daemon are listed in
 * xlbd.h.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "xlbd.h"

/* Exit codes (documented in xlbd(8), EXIT STATUS). */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2,
	EXIT_CONFIG = 3,
};

struct xlbd daemon_state;

static void on_signal(struct xlb_event *ev, uint32_t events)
{
	struct signalfd_siginfo si;

	while (read(ev->fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			/* The agent stops; the data plane keeps forwarding
			 * from its pinned maps until the next agent adopts
			 * it. A full stop is `lbctl shutdown`. */
			pr_info("signal %u: stopping the agent; the data plane "
				"keeps running",
				si.ssi_signo);
			daemon_state.stop = true;
			break;
		case SIGHUP: {
			char err[XLB_ERR_LEN];

			if (xlbd_reload(&daemon_state, NULL, err, sizeof(err)))
				pr_warn("reload rejected, nothing changed: %s",
					err);
			break;
		}
		default:
			break;
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xlbd [OPTIONS]\n"
		"Run the XLB agent in the foreground.\n\n"
		"  -c, --config FILE       YAML configuration "
		"(docs/CONFIG.md)\n"
		"  -i, --interface IFNAME  attach to IFNAME (repeatable; adds "
		"to "
		"the file's)\n"
		"  -s, --socket PATH       control socket (default %s)\n"
		"  -m, --xdp-mode MODE     native (default) or generic\n"
		"  -p, --pin-path PATH     bpffs directory for maps (default "
		"%s)\n"
		"  -M, --metrics ADDR:PORT serve /metrics there ('off' to "
		"disable)\n"
		"  -t, --check             validate the configuration and "
		"exit\n"
		"  -R, --replace           replace an XLB program attached "
		"with no pins to adopt\n"
		"                          (its flows are lost)\n"
		"  -v, --verbose           debug logging\n"
		"  -V, --version           print the version\n"
		"  -h, --help              this text\n",
		XLB_DEFAULT_SOCKET, XLB_DEFAULT_PIN_PATH);
}

static int parse_cli(int argc, char **argv, struct cli *cli)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"interface", required_argument, NULL, 'i'},
		{"socket", required_argument, NULL, 's'},
		{"xdp-mode", required_argument, NULL, 'm'},
		{"pin-path", required_argument, NULL, 'p'},
		{"metrics", required_argument, NULL, 'M'},
		{"check", no_argument, NULL, 't'},
		{"replace", no_argument, NULL, 'R'},
		{"verbose", no_argument, NULL, 'v'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	int c;

	memset(cli, 0, sizeof(*cli));
	cli->xdp_mode = -1;
	while ((c = getopt_long(argc, argv, "c:i:s:m:p:M:tRvVh", opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'c':
			cli->config = optarg;
			break;
		case 'i':
			if (cli->n_ifnames == XLB_MAX_INTERFACES) {
				pr_warn("at most %d interfaces",
					XLB_MAX_INTERFACES);
				return -EINVAL;
			}
			cli->ifnames[cli->n_ifnames++] = optarg;
			break;
		case 's':
			cli->socket = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "native")) {
				cli->xdp_mode = XLB_XDP_NATIVE;
			} else if (!strcmp(optarg, "generic")) {
				cli->xdp_mode = XLB_XDP_GENERIC;
			} else {
				pr_warn("--xdp-mode: '%s' is not native or "
					"generic",
					optarg);
				return -EINVAL;
			}
			break;
		case 'p':
			cli->pin_path = optarg;
			break;
		case 'M':
			cli->metrics = optarg;
			break;
		case 't':
			cli->check = true;
			break;
		case 'R':
			cli->replace = true;
			break;
		case 'v':
			xlb_log_set_level(XLB_LOG_DEBUG);
			break;
		case 'V':
			printf("xlbd %s\n", XLB_VERSION);
			exit(EXIT_OK);
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		pr_warn("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* The file's configuration with the command line on top. */
int xlbd_build_config(const struct cli *cli, struct xlb_config *cfg, char *err,
		      size_t errlen)
{
	size_t i;
	int ret;

	if (cli->config) {
		ret = xlb_config_load(cli->config, cfg, err, errlen);
		if (ret)
			return ret;
	} else {
		xlb_config_defaults(cfg);
	}
	for (i = 0; i < cli->n_ifnames; i++) {
		size_t j;

		/* Named in the file and on the command line: attach once. */
		for (j = 0; j < cfg->n_interfaces; j++)
			if (!strcmp(cfg->interfaces[j], cli->ifnames[i]))
				break;
		if (j < cfg->n_interfaces)
			continue;
		if (cfg->n_interfaces == XLB_MAX_INTERFACES) {
			snprintf(err, errlen, "at most %d interfaces",
				 XLB_MAX_INTERFACES);
			return -EINVAL;
		}
		cfg->interfaces[cfg->n_interfaces] = strdup(cli->ifnames[i]);
		if (!cfg->interfaces[cfg->n_interfaces++])
			return -ENOMEM;
	}
	if (cli->socket)
		snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s",
			 cli->socket);
	if (cli->pin_path)
		snprintf(cfg->pin_path, sizeof(cfg->pin_path), "%s",
			 cli->pin_path);
	if (cli->xdp_mode >= 0)
		cfg->xdp_mode = cli->xdp_mode;
	if (cli->metrics)
		snprintf(cfg->metrics_listen, sizeof(cfg->metrics_listen), "%s",
			 strcmp(cli->metrics, "off") ? cli->metrics : "");
	return 0;
}

int main(int argc, char **argv)
{
	struct xlbd *d = &daemon_state;
	char err[XLB_ERR_LEN];
	struct cli cli;
	sigset_t mask;
	int ret;

	xlb_log_set_ident("xlbd");
	xlb_log_hook_libs();
	if (parse_cli(argc, argv, &cli))
		return EXIT_USAGE;
	d->cli = &cli;
	if (xlbd_build_config(&cli, &d->cfg, err, sizeof(err))) {
		pr_warn("%s", err);
		xlb_config_free(&d->cfg);
		return EXIT_CONFIG;
	}
	if (cli.check) {
		printf("%s: configuration ok (%zu VIPs)\n",
		       cli.config ? cli.config : "(defaults)", d->cfg.n_vips);
		xlb_config_free(&d->cfg);
		return EXIT_OK;
	}
	if (!d->cfg.n_interfaces)
		pr_warn("no interface given: the program is loaded but sees "
			"no traffic (use --interface or interfaces:)");

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->sig_ev.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	d->sig_ev.handler = on_signal;
	if (d->epfd < 0 || d->sig_ev.fd < 0 ||
	    xlb_loop_add(d->epfd, &d->sig_ev, EPOLLIN)) {
		pr_warn("event loop: %s", strerror(errno));
		xlb_config_free(&d->cfg);
		return EXIT_RUNTIME;
	}
	ret = xlbd_run(d);
	close(d->sig_ev.fd);
	close(d->epfd);
	xlb_config_free(&d->cfg);
	return ret ? EXIT_RUNTIME : EXIT_OK;
}
