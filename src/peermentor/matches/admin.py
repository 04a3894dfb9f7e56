from django.contrib import admin

from peermentor.matches.models import MatchRun, Proposal, UnmatchedEntry


@admin.register(MatchRun)
class MatchRunAdmin(admin.ModelAdmin):
    list_display = ["id", "program", "track", "status", "created_at", "published_at"]
    list_filter = ["status"]
    list_select_related = ["program", "track"]
    raw_id_fields = ["program", "track", "parent", "created_by", "published_by"]
    readonly_fields = ["parameters"]


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ["id", "run", "group_key", "score", "is_locked", "is_excluded", "is_manual"]
    raw_id_fields = ["run"]


@admin.register(UnmatchedEntry)
class UnmatchedEntryAdmin(admin.ModelAdmin):
    list_display = ["id", "run", "participant", "reason"]
    raw_id_fields = ["run", "participant"]
