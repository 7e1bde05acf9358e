# pme in a container: the static musl binary, built from this repository's
# metrics.yaml, on an empty image, as an unprivileged user. The Mozilla CA
# roots are compiled into the binary, so the image needs no files of its own.
#
#   docker build -t pme .            # or: podman build -t pme .
#   docker run --rm -p 19866:19866 -p 19867:19867 pme
#
# For the host's metrics rather than the container's, mount the host's
# trees and point the built-in collectors at them:
#
#   docker run --rm --pid=host -v /proc:/host/proc:ro -v /sys:/host/sys:ro \
#     -v /:/host/root:ro -p 19866:19866 pme \
#     --path.procfs=/host/proc --path.sysfs=/host/sys --path.rootfs=/host/root
#
# Every flag can also be a PME_* variable (`-e PME_LOG_FORMAT=json`).

FROM docker.io/library/rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
# The same command as CI's "static musl binary" step (.ci/run).
RUN cargo build --release --target x86_64-unknown-linux-musl \
 && install -D target/x86_64-unknown-linux-musl/release/pme /out/pme

FROM scratch
COPY --from=build /out/pme /pme
# nobody:nogroup; an empty image has no /etc/passwd, so by number.
USER 65534:65534
EXPOSE 19866 19867
ENTRYPOINT ["/pme"]
CMD ["--web.listen-address=:19866", "--health.listen-address=:19867"]
