"""Word lists for names: given names and surnames of many countries, and words never a name.

- `name_lexicon()`: first names and surnames from the name lists of every Faker locale (86
  locales, about 31,000 given names and 28,000 surnames, in their own scripts: Cyrillic,
  Greek, Arabic, Hebrew, Devanagari, Han, Hangul and the Latin ones, and romanised Japanese
  and Chinese; every list a locale keeps: by sex, religion, Polish unisex surnames, middle
  names), read once, offline; with about 600 given names and 240 surnames Faker lacks
  (African, South Asian, romanised Korean, Chinese and Vietnamese, Gaelic, Basque...).
- `STOP_WORDS`: words that are never a person's name on their own, in the languages support
  mail comes in: greetings and sign-offs, titles, field labels and column headers, roles and
  mailboxes, and the capitalised nouns of German business mail. A run made only of them is
  not a name, and a name's span never starts with a greeting or a label.
- `WORD_NAMES`: first names that are also ordinary English words (Will, Hope, Grant): in
  lower case they need a person's position (a chat speaker, a cue), not just the list.
- `language_of`: a cheap guess of a text's language from its function words, so the English
  model's verdict on a capitalised German noun is not taken as a name.
"""

from __future__ import annotations

import importlib
import pkgutil
import unicodedata
from functools import cache, lru_cache

import regex

_NAME_LIST_ATTR = regex.compile(
    r"(?:(?:male|female|unisex)_)?(?P<kind>first|middle|last)_(?:romanized_)?names(?:_\w+)?"
)


@cache
def name_lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, surnames) from every Faker locale's person provider, as written."""
    import faker.providers.person as people

    firsts: set[str] = set()
    lasts: set[str] = set()
    for module in pkgutil.iter_modules(people.__path__):
        try:
            provider = importlib.import_module(f"{people.__name__}.{module.name}").Provider
        except (ImportError, AttributeError):
            continue
        # first_names, first_names_female_islamic, first_romanized_names, middle_names,
        # last_names_rus, male_last_names, unisex_last_names, last_romanized_names...
        attrs = {a for klass in provider.__mro__ for a in vars(klass)}
        for attr in sorted(attrs):
            kind = _NAME_LIST_ATTR.fullmatch(attr)
            if kind is None:
                continue
            into = lasts if kind.group("kind") == "last" else firsts
            values = getattr(provider, attr, None)
            if isinstance(values, dict):  # some locales weight their names
                values = list(values)
            if isinstance(values, list | tuple | set | frozenset):
                into.update(v for v in values if isinstance(v, str) and v.strip())
    firsts.update(_SHORT_FORMS)
    firsts.update(_MORE_GIVEN.split())
    lasts.update(_MORE_SURNAMES.split())
    # a cased word must start with a capital; caseless scripts (Arabic, Han, ...) are kept
    keep = {n for n in firsts | lasts if not n[:1].islower() and n.casefold() not in STOP_WORDS}
    return frozenset(firsts & keep), frozenset(lasts & keep)


# short forms and common given names the Faker lists lack (chat and handover notes use them)
_SHORT_FORMS = frozenset(
    """Kev Becca Bex Jen Stu Gaz Baz Shaz Mags Debs Viv Gav Mo Fede Santi Juanjo Misha Dima
    Kolya Olya Katya Vova Zhenya Yura Sasha Seun Tayo Dayo Chidi Femi Funmi Bisi Sola Wale
    Segun Tolu Tunde Raj Rohit Sanjay Vijay Anil Sunil Deepak Vikram Manoj Suresh Ramesh
    Ganesh Arvind Nikhil Kiran Rakesh Mahesh Dinesh Naveen Pradeep Rajesh Siddharth Sid
    Kuba Gosia Kasia Basia Ola Tomek Bartek Wojtek Jurek Staszek Franek Zosia""".split()  # noqa: SIM905
)

# Common given names and surnames of West, East and Southern Africa (Akan, Yoruba, Igbo, Hausa,
# Wolof, Zulu, Xhosa, Sotho, Tswana, Shona, Kikuyu, Luo, Amharic), South Asia (Hindi, Bengali,
# Tamil, Telugu, Marathi, Punjabi, Urdu), romanised Chinese, Korean, Japanese and Vietnamese,
# Pacific, Gaelic, Welsh, Basque, Catalan, Breton-French, Dutch and North German names that
# Faker's lists lack (hand-written for issue 24: Faker's Korean and Chinese lists are in their
# own scripts, its African ones short). None of three letters or fewer, none an English word
# or a stop word: lower-case chat reads these as names beside a cue.
_MORE_GIVEN = """
    Efua Kobina Obiageli Olumide Oluwaseun Oluwatobi Olufemi Oluwadamilare Damilare Damilola
    Ayomide Ayotunde Babatunde Bamidele Adebayo Adewale Adetokunbo Adeola Adesuwa Folasade
    Folake Funmilayo Funke Temitope Opeyemi Oyinkansola Ifeoluwa Abimbola Kehinde Taiwo
    Idowu Jumoke Bukola Bolanle Kunle Gbenga Yemi Toyin Dapo Lanre Niyi Bisola Kemi Jide
    Jideofor Chidinma Chinwe Chioma Chinonso Chibuzor Chidiebere Chimamanda Chiokwe Ebere
    Ijeoma Ikechukwu Nkechi Obiora Onyeka Uzoma Adaora Amaka Obioma Somto Tochukwu Ugochi
    Chukwuma Azubuike Aminu Bashir Garba Fatou Aminata Aissatou Mariama Ousmane Ibrahima
    Cheikh Modou Abdoulaye Seydou Souleymane Boubacar Oumar Adama Binta Khady Ndeye Coumba
    Penda Assane Babacar Fatoumata Kadiatou Djeneba Salif Sipho Lerato Thabo Nokuthula
    Nosipho Zanele Zodwa Bongani Sizwe Lwazi Mbali Nandi Nomsa Palesa Refilwe Tumelo Tshepo
    Kagiso Karabo Katlego Lesedi Mpho Naledi Dineo Boitumelo Kgomotso Keabetswe Themba Vusi
    Xolani Ayanda Buhle Duduzile Lindiwe Mthunzi Nkosana Nkosinathi Phumzile Sindisiwe
    Thulani Zandile Zukiswa Unathi Anele Nolwazi Nqobile Tendai Tatenda Tafadzwa Tinashe
    Farai Chipo Rutendo Nyasha Kudakwashe Tapiwa Rumbidzai Vimbai Ruvimbo Shingai Munashe
    Simbarashe Takudzwa Fadzai Chiedza Kudzai Awino Adhiambo Auma Kipchoge Zawadi Furaha
    Nyokabi Tesfaye Abebe Meseret Tigist Hiwot Bereket Dawit Yonas Tsegaye Mekdes Eyerusalem
    Genet Kidist Mulugeta Yohannes Haile Girma Wondimu Amanuel Biniam Senait Mehret Aster
    Eskinder Feven Semhar Nahom Filmon Anand Ananya Aditi Priyanka Shruti Swati Ritu Sapna
    Tanvir Rahim Advait Varun Tarun Akash Aakash Abhishek Ankit Ankur Ashish Mayank Mohit
    Nitin Pankaj Prateek Rajat Sachin Saurabh Shubham Tushar Vikas Vivek Aishwarya Deepika
    Gayatri Madhuri Preeti Rashmi Roshni Sakshi Shweta Sunita Anushka Aparna Chandni Revathi
    Sowmya Suganya Vani Aruna Karthik Karthika Senthil Murugan Arun Balaji Ganesan Saravanan
    Prakash Tamilselvi Venkatesh Srinivas Subramanian Raghu Sidharth Aniket Atul Chetan
    Darshan Hemant Kunal Lalit Manish Mukesh Naresh Rishabh Sameer Sandeep Sanjeev Shashank
    Shivam Sumit Sushil Uday Umesh Vinay Vinod Yogesh Rupinder Gurpreet Harpreet Manpreet
    Jaspreet Simran Navjot Amandeep Kuldeep Baljit Harjit Jasvinder Sukhwinder Fahim Nasrin
    Shirin Sharmin Tahmina Rumana Shabnam Nusrat Taslima Farzana Mahmuda Rokeya Sumaiya
    Faisal Jahid Kamrul Masud Mizanur Monir Nazmul Rezaul Shahid Sohel Tareq Junaid Naveed
    Rizwan Shoaib Usama Waqas Zeeshan Hira Iqra Mahnoor Mehwish Rabia Sana Saima Sidra Uzma
    Xiaoling Xiaoming Xiaohong Xiaomei Xiaoyan Xiaowei Xiaojun Xiaolong Xiaoyu Jianhua
    Jianguo Jianjun Jianping Jianwei Weiwei Wenjun Wenjie Haiyan Hailong Hongmei Hongyan
    Lihua Lijun Liping Limei Lingling Meiling Meilin Mingyu Minghui Qingqing Shuang Shufen
    Tingting Xinyi Xinyu Yanyan Yaqi Yifan Yihan Yiming Yuxuan Yuting Zhiwei Zhiqiang Zhihao
    Zihan Zixuan Haoran Haoyu Junjie Jiahui Jiayi Jiaxin Ruoxi Shiyu Siyu Xueying Yuhan Yuqi
    Zhenyu Chunhua Guoqiang Jinhua Seo-yeon Seo-jun Ji-ho Ji-woo Ji-hoon Ji-won Ji-yeon
    Ji-min Min-jun Min-seo Min-ji Min-ho Jun-seo Jun-ho Jun-young Do-yun Do-hyun Dong-hyun
    Dong-hoon Ha-eun Ha-joon Hye-jin Hyun-woo Hyun-soo Joo-won Ju-won Ka-eun Kyung-soo
    Na-yeon Seung-hyun Seung-woo Si-woo So-yeon Soo-jin Soo-ah Su-bin Sung-min Tae-yang
    Tae-hyun Ye-jin Ye-eun Yeon-woo Yoo-jin Young-ho Yu-na Eun-ji Eun-seo Jae-won Jae-hyun
    Thanh Huong Tuấn Trang Thao Phuong Hùng Dung Khanh Ngoc Nhung Quynh Quỳnh Thuy Thủy Tien
    Tiến Trinh Hieu Hiếu Phuc Thang Thắng Vinh Cuong Cường Hanh Hoang Kiet Nhan Uyen Uyên
    Haruto Sota Yuto Hinata Kaito Souta Yamato Hayato Daiki Kenta Takumi Ryota Yuna Hina
    Koharu Miyu Akari Ayaka Misaki Natsuki Emiko Keiko Megumi Tomoko Hiroko Noriko Takeshi
    Satoshi Tatsuya Daisuke Kazuki Shinji Makoto Kazuhiro Masato Yusuke Koji Keoni Kalani
    Kailani Makana Kekoa Noelani Pualani Ikaika Kainoa Mahina Kealoha Rangi Losa Tevita Sela
    Mele Viliami Seini Gráinne Róisín Oisín Ciarán Fionn Pádraig Ruairí Dónal Séamus
    Ruairidh Mairi Morag Eilidh Ailsa Seonaid Dafydd Cerys Carys Owain Emrys Gethin Ffion
    Eleri Siân Angharad Cadi Mabli Xabier Unai Ander Gorka Asier Eneko Ibai Oier Ainhoa
    Irati Garazi Uxue Oihane Idoia Edurne Arantxa Oriol Quim Meritxell Roser Loic Maelle
    Gaelle Hanneke Kees Ruud Marloes Wietske Jorien Wendela Hauke
"""
_MORE_SURNAMES = """
    Adebanjo Akande Akinola Okoye Nwankwo Ezeh Okwuosa Diop Ndiaye Gueye Sarr Cisse Keita
    Coulibaly Toure Kone Ouedraogo Agyeman Amoah Quaye Annan Mokoena Molefe Naidoo Govender
    Moyo Mutasa Chikwanha Kipchoge Tesfaye Haile Bekele Tadesse Girma Kebede Alemu
    Bhattacharya Kamath Rathore Hossain Akter Khatun Siddiqui Qureshi Javed Raza Rizvi Hoang
    Phan Dang Ngo Duong Truong Dinh Trinh Yoon Jang Shin Kwon Hwang Ahn Yoo Jeon Bae Baek
    Heo Joo Ryu Chun Hendriksen Smulders Rousselot Delacroix Santangelo Quaresma Kettenbach
    Ibarrola Asmussen Habermann Wendelstein Mbeki Nkemelu Obiang Oyelaran Oyelowo Olaniyan
    Oladipo Olatunji Onyeama Uzodinma Igwe Chukwuma Nnadi Radebe Motaung Cele Buthelezi
    Zwane Baloyi Chauke Maluleke Tshabalala Makhubela Chinamasa Makoni Chigumba Gumbo Marufu
    Mazango Oduya Mugisha Tumusiime Byaruhanga Nakato Kintu Ssempala Hakizimana Niyonzima
    Uwimana Mukamana Habimana Banda Phiri Mwale Tembo Chirwa Zimba Mulenga Bwalya Mwansa
    Sesay Kamara Conteh Bangura Koroma Jalloh Sylla Camara Doumbia Sangare Kaboré Zongo
    Sawadogo Frimpong Tetteh Quarshie Lartey Dzifa Bhosale Jadhav Pawar Shinde Gaikwad
    Salunkhe Kamble Ranade Chavan Mondal Roychowdhury Ganguli Mehta Raghunathan Gopalan
    Chandrasekhar Venkatesan Thangaraj Arumugam Murugesan Palanisamy Karuppiah Kandasamy
    Rahaman Uddin Alam Haque Hoque Sarwar Talukder Bhuiyan Majumder Khondokar Abbasi Afridi
    Gondal Janjua Khattak Lodhi Mirza Niazi Paracha Shaikh Soomro Warraich Yousafzai Nakano
    Harada Tamura Takeuchi Kaneko Wada Nakayama Ishida Ueda Morita Shibata Sakai Kudo
    Yokoyama Miyazaki Miyamoto Uchida Takagi Ando Taniguchi Ohno Maruyama Imai Takada
    Fujimoto Takeda Murata Ueno Sugiyama Masuda Sugawara Hirano Otsuka Chiba Matsui Iwasaki
    Sakurai Kinoshita Noguchi Matsuo Nomura Kikuchi Sano Onishi Sugimoto Arai
"""


@cache
def folded_lexicon() -> frozenset[str]:
    """Every first name and surname, case-folded: for lower-case text and handles."""
    firsts, lasts = name_lexicon()
    return frozenset(n.casefold() for n in firsts | lasts)


def is_name_word(word: str) -> bool:
    """True when `word` (any case) is a first name or surname of some locale's list."""
    return word.casefold() in folded_lexicon() and word.casefold() not in STOP_WORDS


# fmt: off
_GREETINGS = """
hi hello hey dear hiya morning evening afternoon cheers thanks thank thx ty regards best
sincerely yours kind warm wishes greetings welcome bye goodbye congrats congratulations
hallo liebe lieber liebes sehr geehrte geehrter geehrtes guten morgen tag abend danke vielen
dank herzlichen grüße gruß grüßen freundlichen beste schöne schönen moin servus tschüss
bonjour bonsoir salut coucou merci cordialement amicalement bien à vous bisous madame
monsieur hola buenos buenas días dias tardes noches gracias saludos saludo atentamente
cordiales estimado estimada querido querida olá ola oi bom dia boa tarde obrigado obrigada
abraço abraços beijos atenciosamente prezado prezada caro cara ciao buongiorno buonasera
salve grazie mille saluti cordiali distinti gentile gentili egregio egregia hoi goedemorgen
goedemiddag dag groeten groet bedankt vriendelijke beste geachte cześć czesc dzień dzien
dobry dobrý pozdrawiam serdecznie dziękuję dziekuje szanowny szanowna hej hejsan tack
hälsningar halsningar mvh vänliga hilsen hilsener merhaba selam iyi günler gunler
teşekkürler tesekkurler çalışmalar calismalar saygılarımla sayın sevgili ahoj dobrý den
привет здравствуйте спасибо уважением добрый день доброе утро всего доброго пока γεια σου
καλησπέρα καλημέρα ευχαριστώ εκτίμηση αγαπητέ αγαπητή
zdravím děkuji namaste namaskar shukriya dhanyavaad salaam salam marhaba ahlan shalom
feliz navidad próspero año nuevo wesołych świąt dobranoc smacznego kedves üdvözlettel
уважаемый уважаемая уважаемые дорогой дорогая свидания saygılarımızla kiitos terveisin
ystävällisin hei moi pozdravem felice anno buon buone natale feste frohe joyeux bonne
année gelukkig nieuwjaar prettige feestdagen szczęśliwego nowego roku
oh ah aha uh um umm hmm wow oops yeah yep nope
lieben herzliche groetjes hartelijke abrazo abrazos besos beso beijos bises saluto
"""
_TITLES = """
mr mrs ms miss mx dr prof sir madam herr frau fräulein mme mlle m monsieur madame sr sra
srta señor senor señora senora señorita don doña dona dom signor signora sig sigra dott
dottore dottoressa pan pani panem panią pania panu panie meneer mevrouw mevr dhr heer bey
hanım hanim sheikh sheikha sheik inspector sergeant sgt officer detective constable nurse
auntie aunty uncle rev reverend father sister brother captain capt judge coach professor
doctor lord lady dame hon ing lic arch abs mag dipl
sirs rechtsanwalt rechtsanwältin anwalt anwältin avvocato avvocatessa avv notaio maître
abogado abogada advogado advogada mecenas
يا السيد السيدة الأستاذ الدكتور
श्री श्रीमती सुश्री कुमारी डॉ גברת מר คุณ นาย นาง นางสาว господин госпожа
"""
_LABELS = """
name names caller callback assignee assigned reporter owner contact person bill bill-to
from to cc bcc date subject betreff onderwerp objet oggetto asunto assunto temat konu ämne
emne aihe von an de à para van aan od do da a från till fra til sent gesendet envoyé envoye
enviado inviato verzonden wysłano agenda attendees attendee organizer organiser location
where when summary description notes note status priority due department dept county
country city address street postcode zip phone mobile email e-mail fax given family first
last middle preferred pronouns salutation title role job position manager supervisor team
lead agent customer client user account company organisation organization unassigned
nobody none unknown anonymous guest reception security voicemail transcript flight seat
passenger passport nationality ship shipping delivered delivery signed signature witness
dob reason message question answer ticket case invoice order reference ref total amount
qty product sku item items description details comment comments reply forwarded original
wrote schrieb écrit escribió scrisse escreveu schreef napisał skrev yazdı attachments
attachment attached direct office mobile main switchboard reception front desk helpdesk
service desk support sales billing accounts finance legal events marketing payroll admin
administrator system systems noreply no-reply postmaster mailer daemon webmaster info
hr it ops devops operations facilities procurement purchasing logistics warehouse
kundenservice kundendienst verwaltung vertrieb buchhaltung einkauf zentrale abteilung
assistenza ufficio acquisti vendite equipe équipe equipo servicio atención atencion
pomoc obsługa wsparcie klantenservice afdeling kantoor destek müşteri hizmetleri
kundtjänst kundservice kundeservice asiakaspalvelu onboarding staff everyone everybody
cliente clientes clienti kunden klant klanten
rechnung bestellung nachricht unterlagen verständnis herren damen fällen eingang
schreibens kündigung lieferung zahlung vertrag anfrage termin mitarbeiter mitarbeiterin
kunde kundin bitte anbei hiermit ihre ihr ihnen sie wir uns unser unsere büro buero
grüsse anliegen auftrag angebot frage antwort rückmeldung rueckmeldung vielen
montag dienstag mittwoch donnerstag freitag samstag sonntag januar februar märz april mai
juni juli august september oktober november dezember heute morgen gestern
lundi mardi mercredi jeudi vendredi samedi dimanche lunes martes miércoles jueves viernes
sábado domingo segunda terça quarta quinta sexta sábado
mum mom dad mama papa granny grandma grandpa nan boss colleague neighbour neighbor
standup retro minutes apologies actions present absent organizer required optional
department unit floor room building site hospital station street road avenue
bot alerts alert monitor reminder notification notifications automation workflow
at on in the is and or by of for with it its carrier courier driver present
head chief ceo cfo cto coo cio vp svp evp director directeur directora leiter
teamleiter geschäftsführer engineer accountant dispatcher coordinator specialist analyst
consultant executive president intern trainee technician gerente cargo empresa mensaje
accountmanager vertriebsinnendienst personalabteilung chair host facilitator scribe
apologies absent action actions follow follow-up straße
soporte suporte supporto assistance asistencia atendimento ondersteuning klantendienst
handover shift standup stand-up meeting call lunch break update deadline deploy release
sync review kickoff demo training webinar interview appointment session maintenance
outage incident backup leave holiday vacation absence sickness
strasse ort plz stadt land telefon
easter christmas xmas ramadan eid diwali hanukkah thanksgiving weihnachten ostern pfingsten
noël pâques pasqua natale kerst pasen wielkanoc
ลูกค้า พนักงาน แอดมิน เจ้าหน้าที่ العميل الدعم موظف לקוח נציג שירות ग्राहक सहायता клиент
оператор поддержка менеджер 고객 상담원 客户 客服 お客様 担当者 πελάτης υποστήριξη
"""
# fmt: on
STOP_WORDS = frozenset((_GREETINGS + _TITLES + _LABELS).split())
TITLE_WORDS = frozenset(_TITLES.split())
GREETING_WORDS = frozenset(_GREETINGS.split())

# first names that are also everyday English words: in lower case, a list is not enough
WORD_NAMES = frozenset(
    """will mark bill grant hope june may april summer rose lily ivy faith joy grace dawn eve
    art ray sky river max jack frank rich sunny destiny hunter brook chase dale glen pat sue
    rob don guy carol penny ruby amber crystal iris holly heather daisy violet jasmine hazel
    ginger candy angel autumn august sterling miles norm gene jean dick bob nick ted
    al ed jan bo lee kim page reed wade lane cliff drew gay heath rod rusty
    """.split()  # noqa: SIM905 - a word list reads better as text
)

# surnames and given names that are also everyday English words, beyond WORD_NAMES
_WORD_SURNAMES = """
baker smith cook brown green white black gray grey young king hall wood wells stone hill
park field rose bush church fox cooper carter taylor mason fisher miller porter page bell
ward price long short little bond cash banks love day power moon star snow frost winter
spring march english french swift bright sharp strong hardy gold silver steel iron rice
cross north south west east marsh lake brook ford bridges waters rivers woods fields
parks hills chambers house booth mills lamb fish bird crane hawk wolf bear lion drake
reed holmes head bishop knight dean abbott parsons sexton judge sheriff marshall guard
hunt chase walker rider runner shepherd farmer gardener archer bowman butcher barber
singer player turner weaver dyer glass wall gates street lane way best good small light
wise noble sweet kind mild gentle free hope joy grace faith charity honor honour trust
patience prudence mercy constance verity
spoke sent got made told gave took went came found left kept ran paid held brought bought
thought saw heard wrote rang met let put set cut read led fell felt lost won sold stood
ping pong chat post log hang bang sing ring song long gang tan fan pan ban
english french german spanish italian dutch polish swedish danish norwegian finnish greek
turkish russian chinese japanese korean arabic hindi portuguese irish scottish welsh
american british european asian african latin
"""


@cache
def english_words() -> frozenset[str]:
    """Everyday English words (lower case): Faker's English word list, the first names and
    surnames that are also words, and the stop words. A name found capitalised is matched
    again in lower case only when its lower-case form is not one of them ("bartosz" after
    "Bartosz", not "hope" after "Hope")."""
    from faker.providers.lorem.en_US import Provider as Lorem

    words = {w.casefold() for w in Lorem.word_list}
    return frozenset(words | WORD_NAMES | STOP_WORDS | frozenset(_WORD_SURNAMES.split()))


# places that are also given names, beyond Faker's lists of cities, states and countries
_NAMED_PLACES = """
Sydney Florence Paris Austin Chelsea Lincoln Dallas Madison Charlotte Adelaide Sofia Jackson
Victoria Georgia Jordan Savannah Aurora Regina Orlando Houston Phoenix Denver Camden Kingston
Hamilton Wellington Brighton Florida Carolina Virginia India China Israel Kenya Chad Lorraine
Bristol Preston Chester Warwick Darwin Nelson Milan Lyon Nancy Siena Verona Valencia Lima
Santiago Alexandria Dakota Montana Cheyenne Eugene Everett Tyler Lafayette Marion Raleigh
Beverly Shelby Trenton Clifton Columbia Bolivia Perth Hobart Salem Troy Stanley Vienna Geneva
Luzern Lucerne Bergen Odessa Tripoli Medina Petra Cairo Delhi Lahore Dublin Cork Galway Derry
Kerry Clare Shannon Devon Cornwall Kent Essex Surrey Sussex York Durham Winston Aberdeen
Dundee Ayr Florentina Roma Napoli Genova Bologna Padova Lucca Pisa Catalina Barbara Monica
Diego Francisco Jose Antonio Clara Rosa Cruz Fe Paz Mercedes Dolores Asuncion Concepcion
Carmen Lourdes Fatima Loreto Pilar Rocio Esperanza Victoria Eden Hope Zion Bethany Lorain
Augusta Helena Juneau Olympia Charleston Jacksonville Nashville Memphis Tulsa Reno Boise
"""


@cache
def place_names() -> frozenset[str]:
    """Cities, states, provinces and countries of every Faker locale, and places that are
    also given names (Sydney, Florence, Jordan): a given name alone among them needs the
    model's word before it is taken for a person's."""
    import faker.providers.address as addresses

    places: set[str] = set(_NAMED_PLACES.split())
    for module in pkgutil.iter_modules(addresses.__path__):
        try:
            provider = importlib.import_module(f"{addresses.__name__}.{module.name}").Provider
        except (ImportError, AttributeError):
            continue
        for attr in {a for klass in provider.__mro__ for a in vars(klass)}:
            if not _PLACE_ATTR.search(attr) or _NOT_PLACE_ATTR.search(attr):
                continue
            values = getattr(provider, attr, None)
            if isinstance(values, dict):
                values = list(values)
            if isinstance(values, list | tuple):
                places.update(v for v in values if isinstance(v, str))
    return frozenset(places)


_PLACE_ATTR = regex.compile(r"cit|countr|state|province|region|town|municipal|district|capital")
_NOT_PLACE_ATTR = regex.compile(r"suffix|prefix|abbr|format|code|postcode")


@lru_cache(maxsize=1 << 16)  # the same words come back in every text
def is_english_word(word: str) -> bool:
    """True when the lower-case `word`, or its stem less a plural or verb ending, is an
    everyday English word ("keys", "hoped", "marks")."""
    words = english_words()
    if word in words:
        return True
    for ending, stem in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", "")):
        if (
            word.endswith(ending)
            and len(word) > len(ending) + 2
            and word[: -len(ending)] + stem in words
        ):
            return True
    return False


_FUNCTION_WORDS = {
    "en": (
        "the and is are you to of for this that with have please thanks will be on it we "
        "your our my from at by"
    ),
    "de": (
        "der die das und ist nicht sie ihre ihr wir mit für bitte den dem ein eine ich "
        "sind zu im vom zum zur auch noch wird werden haben"
    ),
    "fr": (
        "le la les et est vous nous pour une des du pas je que avec sur merci au de ce "
        "ces mon votre nos toute toutes jusqu ou"
    ),
    "es": (
        "el la los las y es usted para una por con que del su gracias al no de lo mi tu "
        "este esta hasta necesito muy"
    ),
    "pt": (
        "o os as e é você para uma com que do da não obrigado seu sua em de meu minha "
        "este esta até muito"
    ),
    "it": (
        "il lo la gli le e è per una con che del della non grazie sono di de mi ti questo "
        "questa fino molto"
    ),
    "nl": "de het een en is niet van voor met dat ik je u wij zijn op je jij mijn wel geen naar om",
    "pl": "i w z na nie się jest do że to jak proszę dla od za o po przez jest są pan pani",
    "sv": "och är att det som en på för med inte jag du vi av till om har hej",
    "tr": "ve bir bu için ile da de ne mi çok var olarak iyi bu ben sen biz",
}
_FUNCTION_SETS = {lang: frozenset(words.split()) for lang, words in _FUNCTION_WORDS.items()}
_TOKEN = regex.compile(r"\p{L}+")
_LANGUAGES_OF: dict[str, tuple[str, ...]] = {}
for _lang, _words in _FUNCTION_SETS.items():
    for _w in _words:
        _LANGUAGES_OF[_w] = (*_LANGUAGES_OF.get(_w, ()), _lang)


def language_guess(text: str) -> str:
    """`language_of`, and when it finds no other language, the language whose common words
    the text uses most by far (`_frequent_language`), else "en". Only the word-frequency rules
    use it: the older rules were written against `language_of`'s guesses."""
    found = language_of(text)
    if found == "en" and frequencies_available():
        return _frequent_language(text)
    return found


# the rules ask a text's language several times (each span vetted, each lower-case name):
# the guesses are kept for the last few texts (a pure function of the text)
_TEXTS_KEPT = 16


@lru_cache(maxsize=_TEXTS_KEPT)
def _tokens(text: str) -> tuple[str, ...]:
    """The words of `text` (both guesses read them)."""
    return tuple(_TOKEN.findall(text))


@lru_cache(maxsize=_TEXTS_KEPT)
def language_of(text: str) -> str:
    """The language whose function words the text uses most ("en" when none stand out)."""
    words = [w.casefold() for w in _tokens(text)]
    if not words:
        return "en"
    counts = dict.fromkeys(_FUNCTION_SETS, 0)
    for w in words:
        for lang in _LANGUAGES_OF.get(w, ()):
            counts[lang] += 1
    best = max(counts, key=lambda lang: counts[lang])
    if counts[best] < 2 or counts[best] <= counts["en"]:
        return "en"
    return best


# Word frequencies, from the `wordfreq` package's "small" lists (words used at least once per
# million, counted in subtitles, Wikipedia, news, books and web text of each language). How
# common a token is as a word says more than a word list: "priya", "tanvir", "kenji" are rare
# as words in every language; "will", "hope", "bitte", "graag" are common. The lists are read
# from wordfreq's data files directly (gzipped msgpack, its documented "cBpack" format), which
# takes milliseconds, without importing wordfreq itself (its tokenisers take half a second);
# each language once, when a text first needs it. Without the package every answer is None
# and the rules fall back to the word lists above.
FREQUENCY_LANGUAGES = (
    *("en", "de", "fr", "es", "pt", "it", "nl", "pl", "sv", "tr"),
    *("da", "nb", "fi", "cs", "ro", "hu", "id", "vi", "ca"),
)
RARE_ZIPF = 3.5  # under 3.5 uses in a million words: rare as a word
ELSEWHERE_ZIPF = 4.5  # 30 uses in a million in some other language: a word there
COMMON_ZIPF = 4.0  # 10 uses in a million words or more in the text's language: a common word
VERY_COMMON_ZIPF = 5.0  # 100 in a million: a word even when a name list holds it, see below


@cache
def _frequency_buckets(lang: str) -> list[list[str]] | None:
    """wordfreq's small list for `lang`: bucket i holds the words of frequency -i
    centibels (Zipf 9 - i/100); None when the package or the language is missing."""
    import gzip
    import importlib.util
    from pathlib import Path

    try:
        import msgpack

        spec = importlib.util.find_spec("wordfreq")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / f"small_{lang}.msgpack.gz"
    try:
        with gzip.open(path, "rb") as stream:
            data = msgpack.unpackb(stream.read(), raw=False)
    except (OSError, ValueError, msgpack.UnpackException):
        return None
    if not data or not isinstance(data[0], dict) or data[0].get("format") != "cB":
        return None
    buckets: list[list[str]] = data[1:]
    return buckets


def _zipf_of(index: int) -> float:
    return 9.0 - index / 100.0


@cache
def _frequency_table(lang: str) -> dict[str, float] | None:
    buckets = _frequency_buckets(lang)
    if buckets is None:
        return None
    return {word: _zipf_of(i) for i, bucket in enumerate(buckets) for word in bucket}


def frequencies_available() -> bool:
    """True when wordfreq's lists can be read (the package is installed)."""
    return _frequency_buckets("en") is not None


def _fold(word: str) -> str:
    return unicodedata.normalize("NFC", word).casefold().replace("\u2019", "'")


def zipf(word: str, lang: str) -> float | None:
    """How common `word` is in `lang` on the Zipf scale (log10 of uses per billion words:
    3 is once per million); 0.0 under 3 (the small lists stop there), None without
    wordfreq or for a language it lacks."""
    table = _frequency_table(lang)
    if table is None:
        return None
    return table.get(_fold(word), 0.0)


@cache
def _accents() -> dict[int, str]:
    """Latin letters with accents (Latin-1 to Latin Extended Additional) to their base."""
    table = {}
    for code in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00)):
        base = "".join(
            ch for ch in unicodedata.normalize("NFD", chr(code)) if unicodedata.category(ch) != "Mn"
        )
        if base != chr(code):
            table[code] = base
    return table


@cache
def _every_word() -> frozenset[str]:
    """Every word of wordfreq's small lists of `FREQUENCY_LANGUAGES` (Zipf 3 and more),
    case-folded, and the words written with accents also without them (0.3 s, once, when a
    text first needs it)."""
    accents = _accents()
    out: set[str] = set()
    for lang in FREQUENCY_LANGUAGES:
        for bucket in _frequency_buckets(lang) or ():
            out.update(bucket)
            out.update(w.translate(accents) for w in bucket if not w.isascii())
    return frozenset(out)


def word_anywhere(word: str) -> bool | None:
    """True when `word`, with its accents or without them, is a word of some language's
    wordfreq list (used at least once in a million words: Zipf 3); False when it is rare or
    absent in all of them ("Bolormaa", "Tsetseg", "Kubectl"). None without wordfreq."""
    if not frequencies_available():
        return None
    words = _every_word()
    return _fold(word) in words or _bare(word) in words


def _bare(word: str) -> str:
    """`word` case-folded and without accents: "está" and "esta", "cảm" and "cam" meet."""
    folded = _fold(word)
    return folded if folded.isascii() else folded.translate(_accents())


@cache
def _name_peaks() -> dict[str, float]:
    """For each first name and surname of the lists, without accents, the highest Zipf
    frequency in any of `FREQUENCY_LANGUAGES` of a word that is written so with or without
    accents, when at least `ELSEWHERE_ZIPF` (absent: under it in all). A lower-case name is
    matched without its accents too, so "está" counts as the Spanish word it is, not as the
    name "Esta"."""
    # a folded name in ASCII is its own bare form (the first text that needs this waits)
    names = {n if n.isascii() else _bare(n) for n in folded_lexicon()}
    peaks: dict[str, float] = {}
    accents = _accents()
    for lang in FREQUENCY_LANGUAGES:
        for i, bucket in enumerate(_frequency_buckets(lang) or ()):
            z = _zipf_of(i)
            if z < ELSEWHERE_ZIPF:
                break  # the rarer words decide nothing here
            for word in bucket:
                bare = word if word.isascii() else word.translate(accents)
                if bare in names and peaks.get(bare, 0.0) < z:
                    peaks[bare] = z
    return peaks


def rare_as_word(word: str, lang: str) -> bool | None:
    """True when a word of the name lists is rare as a word in English and in the text's
    language `lang` (under `RARE_ZIPF`) and not common in any other language wordfreq covers
    here (under `ELSEWHERE_ZIPF`, which catches a language the guess missed): "priya",
    "tanvir", "niamh", "moritz" in English chat; not "will", "mark", "paz", "está", "mei"
    (Dutch "May") or "anh" (a Vietnamese pronoun). None without wordfreq."""
    if not frequencies_available():
        return None
    folded = _fold(word)
    for each in ("en", lang):
        table = _frequency_table(each)
        if table is not None and table.get(folded, 0.0) >= RARE_ZIPF:
            return False
    return _name_peaks().get(_bare(word), 0.0) < ELSEWHERE_ZIPF


def common_word(word: str, lang: str, listed: bool) -> bool | None:
    """True when `word` reads as an ordinary word of the text's language `lang` or of
    English rather than a name. A word no name list holds: common in either (at least
    `COMMON_ZIPF`: "Zusammen", "Graag", "Uwaga", "Rechnung"). A word a name list holds
    (`listed`): very common in `lang` (at least `VERY_COMMON_ZIPF`) and at least 30 times
    as common there as in English, as a language's own words are and international given
    names are not ("Dobra", "Liebe", "Paz" and "Luz" in Spanish; not "Jean", "Peter",
    "Pierre"). None without wordfreq."""
    en = zipf(word, "en")
    if en is None:
        return None
    here = zipf(word, lang) if lang != "en" else en
    here = en if here is None else here
    if listed:
        return lang != "en" and here >= VERY_COMMON_ZIPF and here - en >= 1.5
    return max(here, en) >= COMMON_ZIPF


# Roles, desks, departments, bots and systems that speak in a chat log, fill a form's field,
# are greeted or sign a mail in place of a person ("Housekeeping:", "Hola Compras,",
# "Groeten,\nPlanning", "Receptie:"), in the languages support text comes in. Many are too rare
# as words for the frequency test ("Dispatch" 3.8, "Receptie" 3.9, "Operador" 3.9).
_ROLE_LABELS = """
dispatch dispatcher housekeeping reception receptionist concierge frontdesk front desk
helpdesk servicedesk support service team admin administrator moderator mod host operator
operations ops noc soc sre devops it hr qa pr payroll billing accounts accounting finance
procurement purchasing planning logistics warehouse facilities maintenance security nursing
pharmacy kitchen lab laboratory radiology triage ward control shipping receiving sales
marketing legal compliance management secretariat office staff crew shift nightshift
caller customer client user guest visitor agent bot system monitor monitoring alerts console
scheduler dispatch porter porters cashier cashiers till counter
empfang rezeption zentrale leitstelle disposition kundenservice kundendienst buchhaltung
einkauf vertrieb verkauf lager versand logistik personal personalabteilung verwaltung
hausmeister sekretariat geschäftsführung küche technik sicherheit pforte wartung planung
nachtschicht kunde kundin anrufer besucher gast
accueil réception standard comptabilité achats ventes logistique entrepôt expédition
sécurité direction secrétariat cuisine planification paie cliente visiteur invité
opérateur opératrice conseiller conseillère
soporte recepción centralita contabilidad compras almacén logística mantenimiento
seguridad dirección secretaría cocina planificación nóminas administración usuario usuaria
operador operadora agente visitante invitado atención despacho facturación
atendimento recepção portaria financeiro contabilidade vendas armazém estoque manutenção
segurança direção diretoria secretaria cozinha balcão caixa usuário usuária atendente
faturamento
assistenza centralino contabilità amministrazione acquisti vendite magazzino logistica
manutenzione sicurezza direzione segreteria cucina utente operatore operatrice ospite
receptie balie klantenservice administratie boekhouding inkoop verkoop magazijn logistiek
onderhoud beveiliging directie secretariaat keuken klant gebruiker medewerker bezoeker
obsługa recepcja księgowość zakupy sprzedaż magazyn logistyka serwis ochrona dyrekcja
kuchnia klient klientka użytkownik konsultant konsultantka
destek resepsiyon muhasebe satınalma satış depo lojistik bakım güvenlik mutfak müşteri
kullanıcı temsilci operatör
kundtjänst ekonomi inköp försäljning underhåll säkerhet växel kund kundeservice økonomi
indkøb salg
"""
ROLE_LABELS = frozenset(_ROLE_LABELS.split())
# an acronym: two to four capitals, or up to six with no vowel ("NOC", "HR", "SRE", "CRM")
_ACRONYM = regex.compile(r"\p{Lu}{2,4}|[B-DF-HJ-NP-TV-Z]{2,6}")


# Given names the lists lack that are everyday words in their own language, where the word
# frequencies count names as words (Turkish and Vietnamese subtitles say "Ebru", "Ozan",
# "Mai" as often as "Hinweis" is written in German): a speaker or a signature so named is a
# name list's word (`listed_anywhere`), not a label. Only that test reads them: in lower case
# most are words ("mai", "bunga", "fé").
_WORD_GIVEN = """
    İsmail Bülent Ozan Ümit Barış Tolga Berk Doruk Ege Kerem Oğuz Tarık Batuhan Şerife Sultan
    Dilek Ebru Ece Aslı Buse İrem Melike Pınar Tuğba Yağmur Burcu Çağla Damla Duygu Gamze
    İpek Kübra Neslihan Nilay Sevgi Sevda Tuba Ceren Bahar Güneş Beril Cansu Didem Ezgi Işıl
    Müge Nehir Rüya Simge Sude Yeşim Umut Deniz Hayat
    An Bình Duy Giang Hiền Hòa Hoa Lộc Mai Nga Ngân Phong Quân Quốc Tâm Thu Toàn Việt
    Bayu Fitri Wati Yanti Sri Andi Fajar Yudi Bintang Mutiara Bunga Mawar Melati
    Graça Esperança Piedade Conceição Natividade Dores Fé Céu Lua Estrela Angustias
    Speranza Fiore Felice Primo Rajaa Iman Noura Basma Hiba Hala Reem Maha
    Lovemore Loveness Upendo Tumaini Happy Ash Ty Seo
"""


@cache
def _bare_lexicon() -> frozenset[str]:
    """The first names and surnames written in Latin letters with accents, case-folded and
    without them ("ayse" for "Ayşe"; the others are in `folded_lexicon` as they are), and
    the given names that are words in their language (`_WORD_GIVEN`)."""
    accented = (n for n in folded_lexicon() if not n.isascii() and n[0] < "\u0250")  # Latin
    return frozenset(_bare(n) for n in (*accented, *_WORD_GIVEN.split()))


def listed_anywhere(word: str) -> bool:
    """True when a name list of some culture holds `word`, with or without its accents
    ("Ayşe": the Turkish list holds "Ayse"), or `_WORD_GIVEN` does ("Ebru", "Mai")."""
    if is_name_word(word):
        return True
    bare = _bare(word)
    return bare in _bare_lexicon() or bare in folded_lexicon()


@cache
def _bare_roles() -> frozenset[str]:
    return frozenset(_bare(w) for w in ROLE_LABELS)


@cache
def _bare_common(lang: str) -> dict[str, float]:
    """The common words of `lang` (`_common_words`) without their accents."""
    accents = _accents()
    out: dict[str, float] = {}
    for word, z in _common_words(lang).items():
        bare = word if word.isascii() else word.translate(accents)
        out[bare] = max(z, out.get(bare, 0.0))
    return out


def label_word(word: str, lang: str) -> bool:
    """True when `word` reads as a label rather than a name where a chat speaker, a form's
    value, a greeting's addressee or a signature stands: a role, desk or department
    (`ROLE_LABELS`, `STOP_WORDS`), an acronym ("NOC", "HR"), or a common word (Zipf at least
    `COMMON_ZIPF`) of the text's language `lang` or of English, written with its accents or,
    typed without them, matched without ("Comptabilite"). A word written with accents is
    judged as written: "Hùng" is no "hung" (a role is matched without accents: "Balcao").
    Says nothing of the name lists."""
    folded = _fold(word).strip(".,'-")
    if not folded:
        return False
    if folded in STOP_WORDS or _bare(folded) in _bare_roles() or _ACRONYM.fullmatch(word):
        return True
    for each in dict.fromkeys(("en", lang)):
        if folded in _common_words(each):  # the words of Zipf `COMMON_ZIPF` and more
            return True
        if folded.isascii() and folded in _bare_common(each):
            return True
    return False


_GUESSED = tuple(_FUNCTION_WORDS)  # the languages the rules know
LANGUAGE_MARGIN = (1.5, 8.0)  # another language wins at 1.5 times English's score plus 8


@cache
def _common_words(lang: str) -> dict[str, float]:
    """The words of `lang` used at least `COMMON_ZIPF` times (10 in a million): a few
    thousand a language, enough to tell languages apart."""
    out: dict[str, float] = {}
    for i, bucket in enumerate(_frequency_buckets(lang) or ()):
        z = _zipf_of(i)
        if z < COMMON_ZIPF:
            break
        out.update(dict.fromkeys(bucket, z))
    return out


@cache
def _common_in_languages() -> dict[str, tuple[tuple[str, float], ...]]:
    """Each word of `_common_words` with its Zipf frequency in each language of `_GUESSED`
    that uses it, in that order."""
    merged: dict[str, list[tuple[str, float]]] = {}
    for lang in _GUESSED:
        for word, z in _common_words(lang).items():
            merged.setdefault(word, []).append((lang, z))
    return {word: tuple(found) for word, found in merged.items()}


@lru_cache(maxsize=_TEXTS_KEPT)
def _frequent_language(text: str) -> str:
    """The language of `GUESSED` whose common words the text uses most (each word counts its
    Zipf frequency there), when it beats English by `LANGUAGE_MARGIN`: short chat lines and
    forms have too few function words ("Hoi Allemaal, de nieuwe rooster staat online",
    "Achtung: Passwort läuft ab"). Capitalised words the name lists hold do not count: a
    Spanish name in an English sentence makes it no Spanish."""
    names = folded_lexicon()
    words = [w.casefold() for w in _tokens(text) if not (w[:1].isupper() and w.casefold() in names)]
    if not words:
        return "en"
    # the same sums as word by word in each language, a word looked up once for them all
    scores = dict.fromkeys(_GUESSED, 0.0)
    common = _common_in_languages()
    for w in words:
        for lang, z in common.get(w, ()):
            scores[lang] += z
    best = max(scores, key=lambda lang: scores[lang])
    factor, plus = LANGUAGE_MARGIN
    return best if scores[best] >= factor * scores["en"] + plus else "en"
