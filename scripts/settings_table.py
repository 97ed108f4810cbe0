"""Print the configuration table of docs/configuration.md (every env var of every service, with its default)."""

from audiosearch.runtime.settings import settings_table
from embedding_service import config as embedding_config
from gateway import config as gateway_config
from metadata_service import config as metadata_config
from search_service import config as search_config

SETTINGS = [
    (gateway_config.GatewaySettings, gateway_config.PREFIX),
    (embedding_config.EmbeddingSettings, embedding_config.PREFIX),
    (search_config.SearchSettings, search_config.PREFIX),
    (metadata_config.MetadataSettings, metadata_config.PREFIX),
]


def main() -> None:
    print("| variable | default | meaning |\n|---|---|---|")
    for cls, prefix in SETTINGS:
        for name, default, doc in settings_table(cls, prefix):
            print(f"| `{name}` | `{default}` | {doc} |")


if __name__ == "__main__":
    main()
