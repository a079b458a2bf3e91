"""The words, emoji and names a synthetic workspace is made of.

Each topic groups its words under the emoji people use with them, so that a generated message's
reactions and inline emoji follow from its words: the signal an emoji suggester learns. Emoji are
Slack short names that the `emoji` package also knows, so a prior can match them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


@dataclass(frozen=True)
class Topic:
    """What a group of channels talks about: its words, each tied to one emoji, and its channels."""

    key: str
    purpose: str
    private_channel: str
    files: tuple[tuple[str, str], ...]  # (file name, mimetype)
    channels_text: str
    emoji_words_text: str  # "emoji: word word ..." groups; each word belongs to one emoji
    popularity: float = 1.0

    @cached_property
    def channels(self) -> tuple[str, ...]:
        return _words(self.channels_text)

    @cached_property
    def emoji_words(self) -> dict[str, tuple[str, ...]]:
        groups: dict[str, list[str]] = {}
        for token in _words(self.emoji_words_text):
            if token.endswith(":"):
                current = groups.setdefault(token[:-1], [])
            else:
                current.append(token)
        return {emoji: tuple(words) for emoji, words in groups.items()}

    @cached_property
    def words(self) -> tuple[str, ...]:
        return tuple(word for group in self.emoji_words.values() for word in group)

    @cached_property
    def emoji_of_word(self) -> dict[str, str]:
        return {word: emoji for emoji, group in self.emoji_words.items() for word in group}

    @property
    def emoji(self) -> tuple[str, ...]:
        return tuple(self.emoji_words)


TOPICS: tuple[Topic, ...] = (
    Topic(
        key="engineering",
        purpose="Shipping software: deploys, incidents, reviews",
        private_channel="security-incidents",
        files=(
            ("deploy.log", "text/plain"),
            ("trace.txt", "text/plain"),
            ("schema.sql", "application/sql"),
        ),
        popularity=2.0,
        channels_text="""
            deploys backend frontend infra oncall incidents releases code-review ci databases api
                mobile
        """,
        emoji_words_text="""
            rocket: deploy release rollout ship launch production staging version canary pipeline
            fire: outage incident hotfix pager alert oncall downtime rollback latency spike
            bug: bug crash stacktrace regression flaky exception segfault traceback null timeout
            white_check_mark: merged approved review tests green build passing lint refactor
                typecheck
        """,
    ),
    Topic(
        key="design",
        purpose="Making things look and feel right",
        private_channel="brand-refresh",
        files=(("mockup.png", "image/png"), ("wireframe.pdf", "application/pdf")),
        popularity=1.2,
        channels_text="""
            design ux-research brand illustration design-systems figma-tips motion icons typography
                design-critique accessibility ui-polish
        """,
        emoji_words_text="""
            art: palette color gradient typography font illustration sketch canvas brush hue
            sparkles: polish animation delight shimmer transition motion microinteraction hover
                glow icon
            frame_with_picture: mockup wireframe figma prototype layout screenshot artboard
                component grid spacing
            eyes: feedback critique usability contrast accessibility persona research heuristic
                userflow interview
        """,
    ),
    Topic(
        key="food",
        purpose="Lunch plans, coffee runs and recipes",
        private_channel="cake-committee",
        files=(("recipe.pdf", "application/pdf"), ("lunch.jpg", "image/jpeg")),
        popularity=1.5,
        channels_text="""
            food lunch coffee recipes baking snacks foodies tea-time dinner-club vegetarian bbq
                cooking
        """,
        emoji_words_text="""
            pizza: pizza pepperoni cheese crust oven slice margherita toppings delivery calzone
            coffee: coffee espresso latte beans roast barista cappuccino grinder mocha brew
            sushi: sushi ramen noodles dumplings salmon wasabi tempura bento miso udon
            cake: cake dessert cookies baking birthday frosting cupcake brownie pastry chocolate
        """,
    ),
    Topic(
        key="sports",
        purpose="Matches, races and the office league",
        private_channel="league-admins",
        files=(("bracket.png", "image/png"), ("results.csv", "text/csv")),
        channels_text="""
            sports football basketball running cycling climbing office-league fantasy-football
                tennis yoga fitness ski-trip
        """,
        emoji_words_text="""
            soccer: football soccer goal striker penalty keeper league match midfield offside
            basketball: basketball dunk playoffs rebound court hoop threepointer nba buzzer assist
            running: marathon running race training pace miles sprint stamina finishline intervals
            trophy: champions trophy final winner title medal podium victory season record
        """,
    ),
    Topic(
        key="music",
        purpose="What everyone is listening to",
        private_channel="office-band",
        files=(("setlist.txt", "text/plain"), ("demo.mp3", "audio/mpeg")),
        channels_text="""
            music playlists concerts guitar vinyl jazz karaoke podcasts band-practice new-releases
                classical djs
        """,
        emoji_words_text="""
            guitar: guitar riff chords amp strings solo bass distortion pedal acoustic
            headphones: playlist album spotify headphones track podcast mixtape shuffle stream
                earbuds
            microphone: concert karaoke vocals singer festival gig tour stage lyrics encore
            musical_note: melody rhythm tempo harmony piano jazz symphony beat chorus verse
        """,
    ),
    Topic(
        key="travel",
        purpose="Trips, flights and where to go next",
        private_channel="offsite-planning",
        files=(("itinerary.pdf", "application/pdf"), ("view.jpg", "image/jpeg")),
        channels_text="""
            travel remote-work offsite hiking roadtrips beaches city-guides travel-deals camping
                backpacking nomads visa-help
        """,
        emoji_words_text="""
            airplane: flight airport boarding layover passport luggage jetlag airline terminal gate
            beach_with_umbrella: beach island sunscreen snorkeling resort vacation ocean surf sand
                tropical
            world_map: itinerary map roadtrip backpacking route hostel explore visa guidebook
                wanderlust
            mountain: hiking summit trail alps camping glacier altitude peak ridge cabin
        """,
    ),
    Topic(
        key="pets",
        purpose="Photos of our dogs, cats and others",
        private_channel="pet-sitters",
        files=(("good-boy.jpg", "image/jpeg"), ("cat-nap.png", "image/png")),
        popularity=1.3,
        channels_text="""
            pets dogs cats pet-photos adoption aquariums birds reptiles pet-advice office-dogs
                rabbits horses
        """,
        emoji_words_text="""
            dog: puppy dog leash fetch bark walkies retriever corgi treats kennel
            cat: kitten cat purr meow litter whiskers tabby scratching catnip nap
            paw_prints: vet adoption rescue shelter grooming paws fur shedding microchip foster
            fish: aquarium goldfish tank hamster parrot bunny turtle gecko guinea budgie
        """,
    ),
    Topic(
        key="support",
        purpose="Helping customers and each other",
        private_channel="vip-accounts",
        files=(("ticket-export.csv", "text/csv"), ("screenshot.png", "image/png")),
        popularity=1.2,
        channels_text="""
            support help-desk escalations customer-feedback billing-help it-help onboarding faq
                success-stories sla support-tier2 refunds
        """,
        emoji_words_text="""
            sos: urgent escalation blocker critical priority sla breach complaint churn asap
            ticket: ticket queue backlog triage zendesk assignee refund invoice account billing
            telephone_receiver: call callback voicemail hotline phone dialin zoom meeting schedule
                followup
            pray: thanks appreciate grateful kudos helpful patience resolved solved sorted
                lifesaver
        """,
    ),
    Topic(
        key="games",
        purpose="Video games, board games and game nights",
        private_channel="dungeon-masters",
        files=(("rules.pdf", "application/pdf"), ("highscore.png", "image/png")),
        channels_text="""
            games game-night board-games chess speedruns retro-games puzzles tabletop esports
                minecraft crosswords card-games
        """,
        emoji_words_text="""
            video_game: gaming console controller multiplayer speedrun steam nintendo playstation
                xbox level
            game_die: boardgame dice dungeons catan meeple tabletop roleplay campaign tokens
                deckbuilder
            chess_pawn: chess gambit checkmate opening endgame rook bishop knight blitz grandmaster
            joystick: arcade retro pixel pinball highscore cabinet emulator 8bit sprite joystick
        """,
    ),
    Topic(
        key="learning",
        purpose="Books, courses and things worth knowing",
        private_channel="mentors",
        files=(("reading-list.md", "text/markdown"), ("notes.pdf", "application/pdf")),
        channels_text="""
            books book-club learning til writing papers courses languages mentoring study-group
                lectures poetry
        """,
        emoji_words_text="""
            books: book novel chapter author reading library paperback fiction bookclub memoir
            bulb: idea learning course lecture tutorial workshop insight brainstorm curiosity
                lesson
            memo: notes writing essay draft journal blog outline editing poetry manuscript
            mortar_board: graduation degree thesis university exam semester certificate scholarship
                diploma study
        """,
    ),
)

# Reactions anyone uses on anything; they carry no topic, so a learner must look past them.
GENERIC_EMOJI: tuple[str, ...] = ("+1", "heart", "joy", "raised_hands", "100", "clap", "smile")

FILLER_WORDS = _words(
    """
    the a is we i it to and for this that on with just so really think anyone today tomorrow
    got know about some need looks like great maybe now later going new does have can was still
    any please check nice pretty good yes no lol hey team here there what when how also again
    one more right quick week friday morning honestly agree
    """
)

FIRST_NAMES = _words(
    """
    ada alan amara ana arjun bea ben carla chen dara dev elif emma farah felix grace hana hugo
    ines ivan jamal jin kai kofi lara leo lina luca maya mei milo nadia nia noah omar olga
    paolo priya quinn rafa rosa sam sara sofia tariq tess uma victor wen yara yusuf zoe aiko
    bruno chloe diego eva femi gus hiro
    """
)

LAST_NAMES = _words(
    """
    okafor lindqvist moreau tanaka silva novak haddad kowalski osei petrov garcia nguyen
    schmidt rossi kim fischer ali jensen mensah costa ivanova sato brown dubois yilmaz patel
    murphy santos weber berg kaur nakamura larsen adeyemi romano horvat lopez chowdhury
    fernandes olsen park mueller ward reyes banda quispe abara holm cohen ito
    """
)


@dataclass(frozen=True)
class BotSpec:
    """A bot account: where it posts and what its messages say (`{word}` is a topic word)."""

    name: str
    real_name: str
    topic: str | None  # None posts in #general
    templates: tuple[str, ...]


BOTS: tuple[BotSpec, ...] = (
    BotSpec(
        name="deploybot",
        real_name="Deploy Bot",
        topic="engineering",
        templates=(
            "Deployed build {number} to production: {word} {word}",
            "Rollout {number} started on staging ({word})",
            "Pipeline {number} failed at {word}: see the {word} log",
        ),
    ),
    BotSpec(
        name="github",
        real_name="GitHub",
        topic="engineering",
        templates=(
            "Pull request #{number} opened: fix {word} in {word}",
            "Pull request #{number} merged: {word} {word}",
        ),
    ),
    BotSpec(
        name="standup",
        real_name="Standup Reminder",
        topic=None,
        templates=("Reminder: standup in 10 minutes. Today's question: {word} or {word}?",),
    ),
)
