# Containers: the image (deploy/container), the Docker Swarm stack
# (deploy/swarm), the Kubernetes manifests (deploy/kubernetes) and the
# multi-node Swarm test (tests/swarm, run by .ci/swarm.sh, as root).
#
#   make image     builds snowsignal:$(PACKAGE_VERSION) and snowsignal:latest
#                  from this source tree, offline (Debian-package bases made
#                  by deploy/container/make-base.sh); DOCKER= names the client
DOCKER = docker

image:
	DOCKER="$(DOCKER)" $(top_srcdir)/deploy/container/build-image.sh snowsignal:$(PACKAGE_VERSION)
.PHONY: image

EXTRA_DIST += \
	.dockerignore \
	deploy/container/Containerfile \
	deploy/container/build-packages \
	deploy/container/runtime-packages \
	deploy/container/make-base.sh \
	deploy/container/build-image.sh \
	deploy/swarm/README.md \
	deploy/swarm/snowsignal.yml \
	deploy/swarm/dtls.yml \
	deploy/swarm/snowsignal-dtls.conf \
	deploy/kubernetes/snowsignal-podnet.yaml \
	deploy/kubernetes/snowsignal-hostnet.yaml \
	deploy/kubernetes/README.md \
	deploy/kubernetes/check/check.sh \
	deploy/kubernetes/check/invariants.py \
	deploy/kubernetes/check/validate.mjs \
	.ci/swarm.sh \
	tests/swarm/engines.sh \
	tests/swarm/run.sh \
	tests/swarm/original.Containerfile
